-- Every reservation carries the decision sequence number its SKU had in Redis when it was decided.
-- sku_high_water keeps, per SKU, the highest sequence this shard has persisted: a Redis whose
-- sequence for the SKU is below the highest of all shards has forgotten decisions (see fencing).
ALTER TABLE orders ADD COLUMN IF NOT EXISTS decision_seq BIGINT NOT NULL DEFAULT 0 COMMENT 'the SKU''s decision sequence in Redis; 0 when unknown (an event of v1, an adopted order)';

CREATE TABLE IF NOT EXISTS sku_high_water (
    campaign_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    sku_id      BIGINT      NOT NULL,
    seq         BIGINT      NOT NULL,
    updated_at  DATETIME(3) NOT NULL,
    PRIMARY KEY (campaign_id, sku_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
