-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_campaigns" table
CREATE TABLE `new_campaigns` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `trigger_kind` text NOT NULL, `once_at` datetime NULL, `minute_of_day` integer NOT NULL DEFAULT (0), `weekday` integer NOT NULL DEFAULT (0), `month_day` integer NOT NULL DEFAULT (0), `event_kind` text NOT NULL DEFAULT (''), `segment_id` integer NOT NULL, `action` text NOT NULL, `points` integer NOT NULL DEFAULT (0), `funding` text NOT NULL DEFAULT (''), `budget_owner` text NOT NULL DEFAULT (''), `store_program_id` integer NULL, `benefit_key` text NOT NULL DEFAULT (''), `valid_days` integer NOT NULL DEFAULT (0), `partner_key` text NOT NULL DEFAULT (''), `message` text NOT NULL DEFAULT (''), `cap_hits` integer NOT NULL DEFAULT (0), `cap_days` integer NOT NULL DEFAULT (0), `budget_points` integer NOT NULL DEFAULT (0), `spent_points` integer NOT NULL DEFAULT (0), `status` text NOT NULL DEFAULT ('ACTIVE'), `created_by` text NOT NULL, `created_at` datetime NOT NULL);
-- Set sequence for "new_campaigns" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_campaigns", 150323855360);
-- Copy rows from old table "campaigns" to new temporary table "new_campaigns"
INSERT INTO `new_campaigns` (`id`, `program_id`, `key`, `name`, `trigger_kind`, `once_at`, `minute_of_day`, `weekday`, `month_day`, `event_kind`, `segment_id`, `action`, `points`, `funding`, `budget_owner`, `store_program_id`, `benefit_key`, `partner_key`, `message`, `cap_hits`, `cap_days`, `budget_points`, `spent_points`, `status`, `created_by`, `created_at`) SELECT `id`, `program_id`, `key`, `name`, `trigger_kind`, `once_at`, `minute_of_day`, `weekday`, `month_day`, `event_kind`, `segment_id`, `action`, `points`, `funding`, `budget_owner`, `store_program_id`, `benefit_key`, `partner_key`, `message`, `cap_hits`, `cap_days`, `budget_points`, `spent_points`, `status`, `created_by`, `created_at` FROM `campaigns`;
-- Drop "campaigns" table after copying rows
DROP TABLE `campaigns`;
-- Rename temporary table "new_campaigns" to "campaigns"
ALTER TABLE `new_campaigns` RENAME TO `campaigns`;
-- Create index "campaign_program_id_key" to table: "campaigns"
CREATE UNIQUE INDEX `campaign_program_id_key` ON `campaigns` (`program_id`, `key`);
-- Create "coupons" table
CREATE TABLE `coupons` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `campaign_id` integer NOT NULL, `run_id` integer NOT NULL, `campaign_key` text NOT NULL, `issued_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, `claim_id` integer NULL, `member_id` integer NOT NULL, `benefit_id` integer NOT NULL, CONSTRAINT `coupons_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION, CONSTRAINT `coupons_benefits_benefit` FOREIGN KEY (`benefit_id`) REFERENCES `benefits` (`id`) ON DELETE NO ACTION);
-- Set sequence for "coupons" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("coupons", 193273528320);
-- Create index "coupon_run_id_member_id" to table: "coupons"
CREATE UNIQUE INDEX `coupon_run_id_member_id` ON `coupons` (`run_id`, `member_id`);
-- Create index "coupon_member_id_benefit_id_expires_at" to table: "coupons"
CREATE INDEX `coupon_member_id_benefit_id_expires_at` ON `coupons` (`member_id`, `benefit_id`, `expires_at`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
