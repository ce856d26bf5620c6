// Package scheduler runs the timed work (robfig/cron v3): reminders, morning digests,
// birthday greetings and segment mailings, with leases so that a job runs once. It
// reaches managers and mail through Notifier and Sender interfaces of its own.
package scheduler
