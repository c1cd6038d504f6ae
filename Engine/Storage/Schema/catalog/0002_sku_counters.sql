-- Aggregate stock counters per campaign SKU, fed by the persister once per batch per SKU
-- (never once per order, so a hot SKU is not a hot row). reserved counts units ever reserved;
-- live units = reserved - released; sold = units paid for.
CREATE TABLE IF NOT EXISTS campaign_sku_counters (
    campaign_id VARCHAR(64) NOT NULL,
    sku_id      BIGINT      NOT NULL,
    reserved    BIGINT      NOT NULL DEFAULT 0,
    sold        BIGINT      NOT NULL DEFAULT 0,
    released    BIGINT      NOT NULL DEFAULT 0,
    updated_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (campaign_id, sku_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Which shard counter_outbox rows are already in campaign_sku_counters: applying is idempotent.
CREATE TABLE IF NOT EXISTS counter_applied (
    shard      INT         NOT NULL,
    outbox_id  BIGINT      NOT NULL,
    applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (shard, outbox_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
