-- Create "category_months" table
CREATE TABLE `category_months` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `month` integer NOT NULL, `category` text NOT NULL, `spend_cents` integer NOT NULL DEFAULT (0), `member_id` integer NOT NULL, CONSTRAINT `category_months_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "category_months" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("category_months", 85899345920);
-- Create index "categorymonth_member_id_month_category" to table: "category_months"
CREATE UNIQUE INDEX `categorymonth_member_id_month_category` ON `category_months` (`member_id`, `month`, `category`);
-- Create "medals" table
CREATE TABLE `medals` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` text NOT NULL, `name` text NOT NULL, `kind` text NOT NULL, `thresholds` json NOT NULL, `level_benefits` json NULL, `program_id` integer NOT NULL, CONSTRAINT `medals_programs_medals` FOREIGN KEY (`program_id`) REFERENCES `programs` (`id`) ON DELETE NO ACTION);
-- Set sequence for "medals" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("medals", 90194313216);
-- Create index "medal_program_id_key" to table: "medals"
CREATE UNIQUE INDEX `medal_program_id_key` ON `medals` (`program_id`, `key`);
-- Create "medal_changes" table
CREATE TABLE `medal_changes` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `medal_key` text NOT NULL, `from_level` integer NOT NULL, `to_level` integer NOT NULL, `reason` text NOT NULL, `created_at` datetime NOT NULL, `member_id` integer NOT NULL, CONSTRAINT `medal_changes_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "medal_changes" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("medal_changes", 94489280512);
-- Create index "medalchange_member_id_created_at" to table: "medal_changes"
CREATE INDEX `medalchange_member_id_created_at` ON `medal_changes` (`member_id`, `created_at`);
-- Create "member_medals" table
CREATE TABLE `member_medals` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `medal_key` text NOT NULL, `level` integer NOT NULL, `updated_at` datetime NOT NULL, `member_id` integer NOT NULL, CONSTRAINT `member_medals_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "member_medals" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("member_medals", 98784247808);
-- Create index "membermedal_member_id_medal_key" to table: "member_medals"
CREATE UNIQUE INDEX `membermedal_member_id_medal_key` ON `member_medals` (`member_id`, `medal_key`);
-- Create index "membermedal_program_id_medal_key_level" to table: "member_medals"
CREATE INDEX `membermedal_program_id_medal_key_level` ON `member_medals` (`program_id`, `medal_key`, `level`);
