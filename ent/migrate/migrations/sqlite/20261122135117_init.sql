-- Create "benefits" table
CREATE TABLE `benefits` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` text NOT NULL, `name` text NOT NULL, `kind` text NOT NULL, `description` text NOT NULL DEFAULT (''), `quota` integer NOT NULL DEFAULT (0), `quota_period` text NOT NULL DEFAULT ('NONE'), `program_id` integer NOT NULL, CONSTRAINT `benefits_programs_benefits` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE NO ACTION);
-- Create index "benefit_program_id_key" to table: "benefits"
CREATE UNIQUE INDEX `benefit_program_id_key` ON `benefits` (`program_id`, `key`);
-- Create "members" table
CREATE TABLE `members` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `external_id` text NOT NULL, `nickname` text NOT NULL DEFAULT (''), `gender` text NOT NULL DEFAULT ('UNKNOWN'), `birthday` date NULL, `phone` text NULL, `registration_channel` text NOT NULL, `registered_at` datetime NOT NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `real_name_verified` bool NOT NULL DEFAULT (false), `bound_accounts` json NULL, `updated_at` datetime NOT NULL, `tier_id` integer NOT NULL, `program_id` integer NOT NULL, CONSTRAINT `members_tiers_tier` FOREIGN KEY (`tier_id`) REFERENCES `tiers` (`id`) ON DELETE NO ACTION, CONSTRAINT `members_programs_members` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE NO ACTION);
-- Set sequence for "members" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("members", 4294967296);
-- Create index "member_program_id_external_id" to table: "members"
CREATE UNIQUE INDEX `member_program_id_external_id` ON `members` (`program_id`, `external_id`);
-- Create index "member_program_id_registered_at" to table: "members"
CREATE INDEX `member_program_id_registered_at` ON `members` (`program_id`, `registered_at`);
-- Create "programs" table
CREATE TABLE `programs` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` text NOT NULL, `name` text NOT NULL, `time_zone` text NOT NULL DEFAULT ('Asia/Shanghai'), `points_per_yuan` integer NOT NULL DEFAULT (100), `rules` json NOT NULL);
-- Set sequence for "programs" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("programs", 8589934592);
-- Create index "programs_key_key" to table: "programs"
CREATE UNIQUE INDEX `programs_key_key` ON `programs` (`key`);
-- Create "tiers" table
CREATE TABLE `tiers` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` text NOT NULL, `name` text NOT NULL, `level` integer NOT NULL, `min_score` integer NOT NULL, `description` text NOT NULL DEFAULT (''), `program_id` integer NOT NULL, CONSTRAINT `tiers_programs_tiers` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE NO ACTION);
-- Set sequence for "tiers" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("tiers", 12884901888);
-- Create index "tier_program_id_key" to table: "tiers"
CREATE UNIQUE INDEX `tier_program_id_key` ON `tiers` (`program_id`, `key`);
-- Create index "tier_program_id_level" to table: "tiers"
CREATE UNIQUE INDEX `tier_program_id_level` ON `tiers` (`program_id`, `level`);
-- Create "tier_benefits" table
CREATE TABLE `tier_benefits` (`tier_id` integer NOT NULL, `benefit_id` integer NOT NULL, PRIMARY KEY (`tier_id`, `benefit_id`), CONSTRAINT `tier_benefits_tier_id` FOREIGN KEY (`tier_id`) REFERENCES `tiers` (`id`) ON DELETE CASCADE, CONSTRAINT `tier_benefits_benefit_id` FOREIGN KEY (`benefit_id`) REFERENCES `benefits` (`id`) ON DELETE CASCADE);
