-- Modify "outbox_messages" table
ALTER TABLE `outbox_messages` DROP INDEX `outboxmessage_member_id`;
