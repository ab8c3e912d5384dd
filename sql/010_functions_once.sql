-- 010: every function now lives once, in sql/functions/, and every
-- `rollcalld migrate` applies those files after the migrations.
--
-- Drop what the old migrations made that no file makes any more:
-- registration was three layers (rc_register_mail -> rc_register3 ->
-- rc_register) and is now one rc_register with the outer layer's five
-- arguments. CREATE OR REPLACE cannot drop a function or change its
-- arguments or result (a new argument list would be a second overload),
-- so a migration does it; the functions pass then creates rc_register.
DROP FUNCTION IF EXISTS rc_register_mail(bigint, jsonb, bytea, bytea, bytea);
DROP FUNCTION IF EXISTS rc_register3(bigint, jsonb, bytea, bytea);
DROP FUNCTION IF EXISTS rc_register(bigint, jsonb, bytea);
