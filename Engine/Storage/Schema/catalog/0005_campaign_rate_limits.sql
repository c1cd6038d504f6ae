-- A campaign's own rate limits (its definition's optional rateLimits object, issue 12), as JSON; NULL: the
-- deployment's RateLimits:* apply. Part of the definition, so part of its fingerprint: it never changes once created.
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS rate_limits VARCHAR(1024) COLLATE utf8mb4_bin NULL;
