-- Drop index "outboxmessage_member_id" from table: "outbox_messages"
DROP INDEX `outboxmessage_member_id`;
