-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_campaigns" table
CREATE TABLE `new_campaigns` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `trigger_kind` text NOT NULL, `once_at` datetime NULL, `minute_of_day` integer NOT NULL DEFAULT (0), `weekday` integer NOT NULL DEFAULT (0), `month_day` integer NOT NULL DEFAULT (0), `event_kind` text NOT NULL DEFAULT (''), `event_tier` text NOT NULL DEFAULT (''), `event_medal` text NOT NULL DEFAULT (''), `event_level` integer NOT NULL DEFAULT (0), `event_after` integer NOT NULL DEFAULT (0), `segment_id` integer NOT NULL, `action` text NOT NULL, `points` integer NOT NULL DEFAULT (0), `funding` text NOT NULL DEFAULT (''), `budget_owner` text NOT NULL DEFAULT (''), `store_program_id` integer NULL, `benefit_key` text NOT NULL DEFAULT (''), `valid_days` integer NOT NULL DEFAULT (0), `partner_key` text NOT NULL DEFAULT (''), `message` text NOT NULL DEFAULT (''), `cap_hits` integer NOT NULL DEFAULT (0), `cap_days` integer NOT NULL DEFAULT (0), `budget_points` integer NOT NULL DEFAULT (0), `spent_points` integer NOT NULL DEFAULT (0), `status` text NOT NULL DEFAULT ('ACTIVE'), `created_by` text NOT NULL, `created_at` datetime NOT NULL);
-- Set sequence for "new_campaigns" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_campaigns", 150323855360);
-- Copy rows from old table "campaigns" to new temporary table "new_campaigns"
INSERT INTO `new_campaigns` (`id`, `program_id`, `key`, `name`, `trigger_kind`, `once_at`, `minute_of_day`, `weekday`, `month_day`, `event_kind`, `segment_id`, `action`, `points`, `funding`, `budget_owner`, `store_program_id`, `benefit_key`, `valid_days`, `partner_key`, `message`, `cap_hits`, `cap_days`, `budget_points`, `spent_points`, `status`, `created_by`, `created_at`) SELECT `id`, `program_id`, `key`, `name`, `trigger_kind`, `once_at`, `minute_of_day`, `weekday`, `month_day`, `event_kind`, `segment_id`, `action`, `points`, `funding`, `budget_owner`, `store_program_id`, `benefit_key`, `valid_days`, `partner_key`, `message`, `cap_hits`, `cap_days`, `budget_points`, `spent_points`, `status`, `created_by`, `created_at` FROM `campaigns`;
-- Drop "campaigns" table after copying rows
DROP TABLE `campaigns`;
-- Rename temporary table "new_campaigns" to "campaigns"
ALTER TABLE `new_campaigns` RENAME TO `campaigns`;
-- Create index "campaign_program_id_key" to table: "campaigns"
CREATE UNIQUE INDEX `campaign_program_id_key` ON `campaigns` (`program_id`, `key`);
-- Create "campaign_cursors" table
CREATE TABLE `campaign_cursors` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL DEFAULT (0), `source` text NOT NULL, `position` integer NOT NULL DEFAULT (0), `lease_owner` text NOT NULL DEFAULT (''), `lease_until` datetime NULL);
-- Set sequence for "campaign_cursors" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("campaign_cursors", 197568495616);
-- Create index "campaigncursor_source" to table: "campaign_cursors"
CREATE UNIQUE INDEX `campaigncursor_source` ON `campaign_cursors` (`source`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
