-- A SKU may be split into stock buckets (the definition's "buckets", 1-16; issue 13): each bucket its own Redis hash tag,
-- so its own cluster slot and core. Part of the definition, so part of its fingerprint when above 1; 1 (every SKU so
-- far) is a SKU that is not split.
ALTER TABLE campaign_skus ADD COLUMN IF NOT EXISTS buckets INT NOT NULL DEFAULT 1;
