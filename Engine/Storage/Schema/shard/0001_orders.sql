-- A shard database: the orders of the buyers whose logical shard (user_id % 64) maps here.
-- order_no carries the logical shard in its low six bits, so it routes without a lookup.
CREATE TABLE IF NOT EXISTS orders (
    order_no         BIGINT         NOT NULL,
    user_id          BIGINT         NOT NULL,
    campaign_id      VARCHAR(64)    NOT NULL,
    sku_id           BIGINT         NOT NULL,
    quantity         INT            NOT NULL,
    amount           DECIMAL(12, 2) NOT NULL,
    status           VARCHAR(20)    NOT NULL COMMENT 'PendingPayment | Paid | Cancelled',
    payment_deadline DATETIME(3)    NOT NULL,
    idempotency_key  VARCHAR(64)    NOT NULL,
    created_at       DATETIME(3)    NOT NULL COMMENT 'when Redis decided the reservation',
    updated_at       DATETIME(3)    NOT NULL,
    version          INT            NOT NULL DEFAULT 0,
    batch_id         BIGINT         NOT NULL COMMENT 'the persister batch that inserted the row: tells new rows from redelivered ones',
    PRIMARY KEY (order_no),
    KEY idx_orders_batch (batch_id),
    KEY idx_orders_user (user_id, order_no),
    KEY idx_orders_sku_status (campaign_id, sku_id, status),
    KEY idx_orders_status_deadline (status, payment_deadline)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Every state change of an order. (order_no, to_status) is unique: a transition logged twice is one transition.
CREATE TABLE IF NOT EXISTS order_status_log (
    id          BIGINT      NOT NULL AUTO_INCREMENT,
    order_no    BIGINT      NOT NULL,
    from_status VARCHAR(20) NULL,
    to_status   VARCHAR(20) NOT NULL,
    reason      VARCHAR(200) NOT NULL,
    created_at  DATETIME(3) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_order_status_log (order_no, to_status)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Every stock movement: reserve (Redis decided), confirm (paid), release (given back).
CREATE TABLE IF NOT EXISTS inventory_log (
    id          BIGINT      NOT NULL AUTO_INCREMENT,
    order_no    BIGINT      NOT NULL,
    campaign_id VARCHAR(64) NOT NULL,
    sku_id      BIGINT      NOT NULL,
    movement    VARCHAR(20) NOT NULL COMMENT 'reserve | confirm | release',
    quantity    INT         NOT NULL,
    created_at  DATETIME(3) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_inventory_log (order_no, movement),
    KEY idx_inventory_log_sku (campaign_id, sku_id, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Per-SKU counter deltas of one committed batch, written in the batch's own transaction and then
-- applied to the catalog's aggregate counters exactly once (the catalog remembers applied ids).
CREATE TABLE IF NOT EXISTS counter_outbox (
    id          BIGINT      NOT NULL AUTO_INCREMENT,
    campaign_id VARCHAR(64) NOT NULL,
    sku_id      BIGINT      NOT NULL,
    reserved    INT         NOT NULL DEFAULT 0,
    sold        INT         NOT NULL DEFAULT 0,
    released    INT         NOT NULL DEFAULT 0,
    created_at  DATETIME(3) NOT NULL,
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
