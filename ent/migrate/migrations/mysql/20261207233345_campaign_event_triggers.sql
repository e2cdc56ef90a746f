-- Modify "campaigns" table
ALTER TABLE `campaigns` ADD COLUMN `event_tier` varchar(64) NOT NULL DEFAULT '', ADD COLUMN `event_medal` varchar(64) NOT NULL DEFAULT '', ADD COLUMN `event_level` bigint NOT NULL DEFAULT 0, ADD COLUMN `event_after` bigint NOT NULL DEFAULT 0;
-- Create "campaign_cursors" table
CREATE TABLE `campaign_cursors` (`id` bigint NOT NULL AUTO_INCREMENT, `program_id` bigint NOT NULL DEFAULT 0, `source` varchar(16) NOT NULL COLLATE utf8mb4_nopad_bin, `position` bigint NOT NULL DEFAULT 0, `lease_owner` varchar(80) NOT NULL DEFAULT '', `lease_until` datetime(6) NULL, PRIMARY KEY (`id`), UNIQUE INDEX `campaigncursor_source` (`source`)) CHARSET utf8mb4 COLLATE utf8mb4_bin AUTO_INCREMENT 197568495616;
