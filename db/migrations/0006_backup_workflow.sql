ALTER TABLE "backup_runs" ALTER COLUMN "execution_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "backup_configs" ADD COLUMN "description" text;--> statement-breakpoint
ALTER TABLE "backup_runs" ADD COLUMN "workflow_id" text;--> statement-breakpoint
ALTER TABLE "backup_runs" ADD COLUMN "workflow_run_id" text;--> statement-breakpoint
ALTER TABLE "backup_runs" ADD COLUMN "triggered_by" text;--> statement-breakpoint
ALTER TABLE "backup_runs" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "backup_configs_schedule_key" ON "backup_configs" USING btree ("schedule_id");--> statement-breakpoint
CREATE INDEX "backup_runs_config_idx" ON "backup_runs" USING btree ("config_id","started_at");--> statement-breakpoint
ALTER TABLE "backup_configs" ADD CONSTRAINT "backup_configs_verify_mode_check" CHECK ("backup_configs"."verify_mode" in ('checksums', 'restore'));--> statement-breakpoint
ALTER TABLE "backup_configs" ADD CONSTRAINT "backup_configs_keep_last_check" CHECK ("backup_configs"."keep_last" is null or "backup_configs"."keep_last" >= 1);--> statement-breakpoint
ALTER TABLE "backup_configs" ADD CONSTRAINT "backup_configs_max_age_check" CHECK ("backup_configs"."max_age_days" is null or "backup_configs"."max_age_days" >= 1);--> statement-breakpoint
UPDATE "backup_configs" SET "description" = CASE "name"
  WHEN 'daily-full' THEN 'Nightly full backup of the database and document storage'
  WHEN 'weekly-export' THEN 'Weekly export, proven by a restore into a scratch database'
  WHEN 'monthly-archive' THEN 'Monthly archive kept for over a year'
  WHEN 'on-demand-full' THEN 'Backups an admin starts now (POST /api/v1/backups)'
END
WHERE "description" IS NULL AND "name" IN ('daily-full', 'weekly-export', 'monthly-archive', 'on-demand-full');
