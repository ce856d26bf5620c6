// Package scheduler runs the timed work (robfig/cron v3): reminders, morning digests,
// birthday greetings, the nightly client marks, and the job that wakes campaign
// delivery (package campaign), with leases so that a job runs once. It reaches
// managers through a Notifier of its own; greetings are letters of package campaign,
// sent through its Sender.
package scheduler
