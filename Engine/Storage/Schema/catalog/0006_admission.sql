-- How buyers reach a campaign's SKUs (issue 12): 'open' (anyone may reserve, as before) or 'queue' (a waiting room
-- admitting buyers in join order, in waves of at most admit_factor x the units still available, each admission
-- valid admission_token_seconds). Part of the definition, so part of its fingerprint when it is a queue.
ALTER TABLE campaigns
    ADD COLUMN IF NOT EXISTS admission_mode          VARCHAR(8)   NOT NULL DEFAULT 'open',
    ADD COLUMN IF NOT EXISTS admit_factor            DECIMAL(6,3) NOT NULL DEFAULT 1.500,
    ADD COLUMN IF NOT EXISTS admission_token_seconds INT          NOT NULL DEFAULT 60;
