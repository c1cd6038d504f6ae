-- Coupon pools (issue 14): a campaign may define pools of coupons, campaign-wide (any of its SKUs may use one), each
-- coupon a discount off one order of at least min_spend. Part of the definition, so part of its fingerprint when there are any.
CREATE TABLE IF NOT EXISTS campaign_coupons (
    campaign_id    VARCHAR(64)    COLLATE utf8mb4_bin NOT NULL,
    coupon_id      VARCHAR(64)    COLLATE utf8mb4_bin NOT NULL,
    discount       DECIMAL(12, 2) NOT NULL,
    min_spend      DECIMAL(12, 2) NOT NULL,
    quantity       INT            NOT NULL,
    per_user_limit INT            NOT NULL,
    PRIMARY KEY (campaign_id, coupon_id),
    CONSTRAINT fk_campaign_coupons_campaign FOREIGN KEY (campaign_id) REFERENCES campaigns (campaign_id),
    CONSTRAINT chk_campaign_coupons_discount CHECK (discount > 0),
    CONSTRAINT chk_campaign_coupons_quantity CHECK (quantity >= 0),
    CONSTRAINT chk_campaign_coupons_limit CHECK (per_user_limit >= 1)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Aggregate counters per pool, like campaign_sku_counters: locked counts coupons ever locked by persisted orders,
-- redeemed those paid, released those given back (live = locked - released). Fed by the Persister from the shards'
-- coupon_counter_outbox, exactly once (coupon_counter_applied).
CREATE TABLE IF NOT EXISTS campaign_coupon_counters (
    campaign_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    coupon_id   VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    locked      BIGINT      NOT NULL DEFAULT 0,
    redeemed    BIGINT      NOT NULL DEFAULT 0,
    released    BIGINT      NOT NULL DEFAULT 0,
    updated_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (campaign_id, coupon_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS coupon_counter_applied (
    shard      INT         NOT NULL,
    outbox_id  BIGINT      NOT NULL,
    applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (shard, outbox_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
