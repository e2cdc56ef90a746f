-- Create "campaigns" table
CREATE TABLE `campaigns` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `trigger_kind` text NOT NULL, `once_at` datetime NULL, `minute_of_day` integer NOT NULL DEFAULT (0), `weekday` integer NOT NULL DEFAULT (0), `month_day` integer NOT NULL DEFAULT (0), `event_kind` text NOT NULL DEFAULT (''), `segment_id` integer NOT NULL, `action` text NOT NULL, `points` integer NOT NULL DEFAULT (0), `funding` text NOT NULL DEFAULT (''), `budget_owner` text NOT NULL DEFAULT (''), `store_program_id` integer NULL, `benefit_key` text NOT NULL DEFAULT (''), `partner_key` text NOT NULL DEFAULT (''), `message` text NOT NULL DEFAULT (''), `cap_hits` integer NOT NULL DEFAULT (0), `cap_days` integer NOT NULL DEFAULT (0), `budget_points` integer NOT NULL DEFAULT (0), `spent_points` integer NOT NULL DEFAULT (0), `status` text NOT NULL DEFAULT ('ACTIVE'), `created_by` text NOT NULL, `created_at` datetime NOT NULL);
-- Set sequence for "campaigns" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("campaigns", 150323855360);
-- Create index "campaign_program_id_key" to table: "campaigns"
CREATE UNIQUE INDEX `campaign_program_id_key` ON `campaigns` (`program_id`, `key`);
-- Create "campaign_results" table
CREATE TABLE `campaign_results` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `campaign_id` integer NOT NULL, `run_id` integer NOT NULL, `member_id` integer NOT NULL, `status` text NOT NULL, `reason` text NOT NULL DEFAULT (''), `points` integer NOT NULL DEFAULT (0), `created_at` datetime NOT NULL);
-- Set sequence for "campaign_results" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("campaign_results", 154618822656);
-- Create index "campaignresult_run_id_member_id" to table: "campaign_results"
CREATE UNIQUE INDEX `campaignresult_run_id_member_id` ON `campaign_results` (`run_id`, `member_id`);
-- Create index "campaignresult_campaign_id_member_id_created_at" to table: "campaign_results"
CREATE INDEX `campaignresult_campaign_id_member_id_created_at` ON `campaign_results` (`campaign_id`, `member_id`, `created_at`);
-- Create "campaign_runs" table
CREATE TABLE `campaign_runs` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `campaign_id` integer NOT NULL, `run_key` text NOT NULL, `only_member_id` integer NULL, `started_at` datetime NOT NULL, `finished_at` datetime NULL, `after_member_id` integer NOT NULL DEFAULT (0), `done` integer NOT NULL DEFAULT (0), `skipped` integer NOT NULL DEFAULT (0), `failed` integer NOT NULL DEFAULT (0), `points` integer NOT NULL DEFAULT (0));
-- Set sequence for "campaign_runs" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("campaign_runs", 158913789952);
-- Create index "campaignrun_campaign_id_run_key" to table: "campaign_runs"
CREATE UNIQUE INDEX `campaignrun_campaign_id_run_key` ON `campaign_runs` (`campaign_id`, `run_key`);
