-- Add column "refusal_code" to table: "point_requests"
ALTER TABLE `point_requests` ADD COLUMN `refusal_code` text NULL;
-- Add column "refusal_field" to table: "point_requests"
ALTER TABLE `point_requests` ADD COLUMN `refusal_field` text NULL;
-- Add column "refusal_message" to table: "point_requests"
ALTER TABLE `point_requests` ADD COLUMN `refusal_message` text NULL;
-- Create "refusals" table
CREATE TABLE `refusals` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `operation` text NOT NULL, `key` text NOT NULL, `body_hash` text NOT NULL, `code` text NOT NULL, `field` text NOT NULL, `message` text NOT NULL, `created_at` datetime NOT NULL, `member_id` integer NOT NULL, CONSTRAINT `refusals_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "refusals" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("refusals", 133143986176);
-- Create index "refusal_program_id_operation_key" to table: "refusals"
CREATE UNIQUE INDEX `refusal_program_id_operation_key` ON `refusals` (`program_id`, `operation`, `key`);
