-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create index "member_program_id_tier_id_status" to table: "members"
CREATE INDEX `member_program_id_tier_id_status` ON `members` (`program_id`, `tier_id`, `status`);
-- Create "new_point_lots" table
CREATE TABLE `new_point_lots` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `order_id` text NULL, `sku` text NULL, `remaining` integer NOT NULL, `expires_at` datetime NOT NULL, `available_at` datetime NOT NULL, `funding` text NOT NULL DEFAULT ('PLATFORM'), `member_id` integer NOT NULL, CONSTRAINT `point_lots_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION);
-- Set sequence for "new_point_lots" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_point_lots", 34359738368);
-- Copy rows from old table "point_lots" to new temporary table "new_point_lots"
INSERT INTO `new_point_lots` (`id`, `program_id`, `order_id`, `sku`, `remaining`, `expires_at`, `available_at`, `member_id`) SELECT `id`, `program_id`, `order_id`, `sku`, `remaining`, `expires_at`, `available_at`, `member_id` FROM `point_lots`;
-- Drop "point_lots" table after copying rows
DROP TABLE `point_lots`;
-- Rename temporary table "new_point_lots" to "point_lots"
ALTER TABLE `new_point_lots` RENAME TO `point_lots`;
-- Create index "pointlot_member_id_expires_at" to table: "point_lots"
CREATE INDEX `pointlot_member_id_expires_at` ON `point_lots` (`member_id`, `expires_at`);
-- Create index "pointlot_program_id_expires_at_funding_remaining" to table: "point_lots"
CREATE INDEX `pointlot_program_id_expires_at_funding_remaining` ON `point_lots` (`program_id`, `expires_at`, `funding`, `remaining`);
-- Create index "memberscore_program_id_settled" to table: "member_scores"
CREATE INDEX `memberscore_program_id_settled` ON `member_scores` (`program_id`, `settled`);
-- Create index "plusterm_program_id_start_at" to table: "plus_terms"
CREATE INDEX `plusterm_program_id_start_at` ON `plus_terms` (`program_id`, `start_at`);
-- Create index "plusterm_program_id_end_at_start_at" to table: "plus_terms"
CREATE INDEX `plusterm_program_id_end_at_start_at` ON `plus_terms` (`program_id`, `end_at`, `start_at`);
-- Create "member_tags" table
CREATE TABLE `member_tags` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `since` datetime NOT NULL, `set_by` text NOT NULL, `reason` text NOT NULL, `source` text NOT NULL, `member_id` integer NOT NULL, `tag_id` integer NOT NULL, CONSTRAINT `member_tags_members_member` FOREIGN KEY (`member_id`) REFERENCES `members` (`id`) ON DELETE NO ACTION, CONSTRAINT `member_tags_tags_tag` FOREIGN KEY (`tag_id`) REFERENCES `tags` (`id`) ON DELETE NO ACTION);
-- Set sequence for "member_tags" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("member_tags", 163208757248);
-- Create index "membertag_member_id_tag_id" to table: "member_tags"
CREATE UNIQUE INDEX `membertag_member_id_tag_id` ON `member_tags` (`member_id`, `tag_id`);
-- Create index "membertag_tag_id_member_id" to table: "member_tags"
CREATE INDEX `membertag_tag_id_member_id` ON `member_tags` (`tag_id`, `member_id`);
-- Create "outbox_messages" table
CREATE TABLE `outbox_messages` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `member_id` integer NOT NULL, `event_type` text NOT NULL, `payload` json NOT NULL, `created_at` datetime NOT NULL, `fanned_out` bool NOT NULL DEFAULT (false));
-- Set sequence for "outbox_messages" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("outbox_messages", 180388626432);
-- Create index "outboxmessage_fanned_out" to table: "outbox_messages"
CREATE INDEX `outboxmessage_fanned_out` ON `outbox_messages` (`fanned_out`);
-- Create index "outboxmessage_program_id" to table: "outbox_messages"
CREATE INDEX `outboxmessage_program_id` ON `outbox_messages` (`program_id`);
-- Create index "outboxmessage_member_id" to table: "outbox_messages"
CREATE INDEX `outboxmessage_member_id` ON `outbox_messages` (`member_id`);
-- Create "segments" table
CREATE TABLE `segments` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `condition` json NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL);
-- Set sequence for "segments" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("segments", 167503724544);
-- Create index "segment_program_id_key" to table: "segments"
CREATE UNIQUE INDEX `segment_program_id_key` ON `segments` (`program_id`, `key`);
-- Create "tags" table
CREATE TABLE `tags` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `key` text NOT NULL, `name` text NOT NULL, `kind` text NOT NULL, `created_at` datetime NOT NULL);
-- Set sequence for "tags" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("tags", 171798691840);
-- Create index "tag_program_id_key" to table: "tags"
CREATE UNIQUE INDEX `tag_program_id_key` ON `tags` (`program_id`, `key`);
-- Create "tag_rules" table
CREATE TABLE `tag_rules` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `condition` json NOT NULL, `version` integer NOT NULL DEFAULT (1), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `evaluated_at` datetime NULL, `tag_id` integer NOT NULL, CONSTRAINT `tag_rules_tags_tag` FOREIGN KEY (`tag_id`) REFERENCES `tags` (`id`) ON DELETE NO ACTION);
-- Set sequence for "tag_rules" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("tag_rules", 176093659136);
-- Create index "tagrule_tag_id" to table: "tag_rules"
CREATE UNIQUE INDEX `tagrule_tag_id` ON `tag_rules` (`tag_id`);
-- Create index "tagrule_program_id" to table: "tag_rules"
CREATE INDEX `tagrule_program_id` ON `tag_rules` (`program_id`);
-- Create "webhook_deliveries" table
CREATE TABLE `webhook_deliveries` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `endpoint_id` integer NOT NULL, `message_id` integer NOT NULL, `member_id` integer NOT NULL, `event_type` text NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `last_error` text NOT NULL DEFAULT (''), `lease_owner` text NOT NULL DEFAULT (''), `lease_until` datetime NULL, `created_at` datetime NOT NULL, `delivered_at` datetime NULL);
-- Set sequence for "webhook_deliveries" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("webhook_deliveries", 184683593728);
-- Create index "webhookdelivery_message_id_endpoint_id" to table: "webhook_deliveries"
CREATE UNIQUE INDEX `webhookdelivery_message_id_endpoint_id` ON `webhook_deliveries` (`message_id`, `endpoint_id`);
-- Create index "webhookdelivery_endpoint_id_member_id_message_id" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_endpoint_id_member_id_message_id` ON `webhook_deliveries` (`endpoint_id`, `member_id`, `message_id`);
-- Create index "webhookdelivery_status_next_attempt_at" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_status_next_attempt_at` ON `webhook_deliveries` (`status`, `next_attempt_at`);
-- Create "webhook_endpoints" table
CREATE TABLE `webhook_endpoints` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `program_id` integer NOT NULL, `url` text NOT NULL, `event_types` json NOT NULL, `description` text NOT NULL DEFAULT (''), `secret` text NOT NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `failure_run` integer NOT NULL DEFAULT (0), `disabled_reason` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL);
-- Set sequence for "webhook_endpoints" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("webhook_endpoints", 188978561024);
-- Create index "webhookendpoint_program_id_status" to table: "webhook_endpoints"
CREATE INDEX `webhookendpoint_program_id_status` ON `webhook_endpoints` (`program_id`, `status`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
