-- Campaign ids are exact, as in Redis keys: the tables' DEFAULT CHARSET clause gave the id columns the
-- charset's case-insensitive collation, so 'SEC-X' found campaign 'sec-x' here while Redis knew no such
-- SKU. Binary collation makes every lookup by id exact. campaign_id_folded keeps ids that differ only
-- in case from being created side by side (the second is a campaign-conflict, as before).
ALTER TABLE campaign_skus DROP FOREIGN KEY IF EXISTS fk_campaign_skus_campaign;

ALTER TABLE campaigns
    MODIFY campaign_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    ADD COLUMN IF NOT EXISTS campaign_id_folded VARCHAR(64) AS (LOWER(campaign_id)) PERSISTENT,
    ADD UNIQUE KEY IF NOT EXISTS uq_campaigns_id_folded (campaign_id_folded);

ALTER TABLE campaign_skus
    MODIFY campaign_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    ADD CONSTRAINT fk_campaign_skus_campaign FOREIGN KEY IF NOT EXISTS (campaign_id) REFERENCES campaigns (campaign_id);

ALTER TABLE campaign_sku_counters
    MODIFY campaign_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
