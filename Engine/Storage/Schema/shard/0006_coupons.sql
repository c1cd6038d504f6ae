-- Coupons (issue 14): the coupon an order was made with is stored with it, with the discount taken off its amount (amount
-- is already net of it) and the pool's decision sequence of its lock. coupon_log records every coupon movement like
-- inventory_log does for units: lock (the reservation), redeem (paid), release (given back). coupon_high_water keeps per
-- pool the highest decision sequence this shard persisted, as sku_high_water does per SKU (fencing of pools).
ALTER TABLE orders
    ADD COLUMN IF NOT EXISTS coupon_id  VARCHAR(64)    COLLATE utf8mb4_bin NULL COMMENT 'the coupon pool the order used; NULL: none',
    ADD COLUMN IF NOT EXISTS discount   DECIMAL(12, 2) NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS coupon_seq BIGINT         NOT NULL DEFAULT 0 COMMENT 'the pool''s decision sequence of the coupon''s lock';
CREATE INDEX IF NOT EXISTS idx_orders_coupon ON orders (campaign_id, coupon_id, status);

CREATE TABLE IF NOT EXISTS coupon_log (
    id          BIGINT      NOT NULL AUTO_INCREMENT,
    order_no    BIGINT      NOT NULL,
    campaign_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    coupon_id   VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    movement    VARCHAR(20) NOT NULL COMMENT 'lock | redeem | release',
    created_at  DATETIME(3) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_coupon_log (order_no, movement),
    KEY idx_coupon_log_pool (campaign_id, coupon_id, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS coupon_counter_outbox (
    id          BIGINT      NOT NULL AUTO_INCREMENT,
    campaign_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    coupon_id   VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    locked      INT         NOT NULL DEFAULT 0,
    redeemed    INT         NOT NULL DEFAULT 0,
    released    INT         NOT NULL DEFAULT 0,
    created_at  DATETIME(3) NOT NULL,
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS coupon_high_water (
    campaign_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    coupon_id   VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    seq         BIGINT      NOT NULL,
    updated_at  DATETIME(3) NOT NULL,
    PRIMARY KEY (campaign_id, coupon_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
