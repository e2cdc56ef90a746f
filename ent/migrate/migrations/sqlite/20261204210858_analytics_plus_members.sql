-- Drop index "plusterm_program_id_end_at_start_at" from table: "plus_terms"
DROP INDEX `plusterm_program_id_end_at_start_at`;
-- Create index "plusterm_program_id_end_at_start_at_member_id" to table: "plus_terms"
CREATE INDEX `plusterm_program_id_end_at_start_at_member_id` ON `plus_terms` (`program_id`, `end_at`, `start_at`, `member_id`);
