-- Modify "plus_terms" table
ALTER TABLE `plus_terms` DROP INDEX `plusterm_program_id_end_at_start_at`, ADD INDEX `plusterm_program_id_end_at_start_at_member_id` (`program_id`, `end_at`, `start_at`, `member_id`);
