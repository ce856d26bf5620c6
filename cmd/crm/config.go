package main

import (
	"bufio"
	"cmp"
	"fmt"
	netmail "net/mail"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zones work on machines without a zone database

	"go.mongodb.org/mongo-driver/event"

	"github.com/crm-team/crm/campaign"
	"github.com/crm-team/crm/mail"
	"github.com/crm-team/crm/store"
)

// setting is one configuration variable with its default and meaning; the README's
// table is written from the same facts.
type setting struct {
	name, def, help string
	secret          bool
}

// defaultFileLimitMB is the store's default for files kept in the database, in the
// megabytes the file limits are set in.
var defaultFileLimitMB = strconv.Itoa(store.DefaultFileLimit >> 20)

var settings = []setting{
	{name: "CRM_CONFIG", help: "optional file of NAME=value lines; the environment wins over it"},
	{name: "CRM_MONGODB_URI", help: "MongoDB connection string; empty runs the embedded engine", secret: true},
	{name: "CRM_MONGODB_DATABASE", def: "crm", help: "database name"},
	{name: "CRM_DATA_DIR", def: "./data", help: "embedded engine's data directory (SQLite files, lock, socket)"},
	{name: "CRM_HTTP_ADDR", def: "127.0.0.1:8080", help: "HTTP listener: /healthz, /readyz"},
	{name: "CRM_PHONE_REGION", def: "RU", help: "region for phone numbers written without a country code"},
	{name: "CRM_TELEGRAM_TOKEN", help: "the bot's token from @BotFather; empty runs without the bot", secret: true},
	{name: "CRM_TELEGRAM_API_URL", def: "https://api.telegram.org", help: "Bot API server (a self-hosted one for large files)"},
	{name: "CRM_TELEGRAM_WEBHOOK_URL", help: "public https URL for updates; empty uses long polling"},
	{name: "CRM_TELEGRAM_WEBHOOK_SECRET", help: "secret Telegram sends with each webhook call (required with a webhook)", secret: true},
	{name: "CRM_TELEGRAM_BOT_NAME", help: "the bot's @username for invite links, in the chat and crm manager invite (asked from Telegram when empty)"},
	{name: "CRM_BOT_FILE_LIMIT_MB", def: defaultFileLimitMB, help: "files up to this size are also kept in the database"},
	{name: "CRM_IMAP_MAILBOXES", help: "names of several mailboxes, comma-separated; each then uses CRM_IMAP_<NAME>_* settings"},
	{name: "CRM_IMAP_HOST", help: "IMAP server of the shared mailbox; empty: no mailbox is read"},
	{name: "CRM_IMAP_PORT", help: "IMAP port (default 993 with tls, 143 otherwise)"},
	{name: "CRM_IMAP_SECURITY", def: "tls", help: "tls, starttls or none"},
	{name: "CRM_IMAP_USER", help: "mailbox login"},
	{name: "CRM_IMAP_PASSWORD", help: "mailbox password", secret: true},
	{name: "CRM_IMAP_FOLDERS", help: "folders to read, comma-separated (default INBOX and the Sent folder)"},
	{name: "CRM_IMAP_SENT_FOLDERS", help: "which of the folders hold outgoing mail (default: found by the server's \\Sent mark or name)"},
	{name: "CRM_IMAP_POLL_INTERVAL", def: "1m", help: "how often every folder is read again (with IDLE, INBOX and the Sent folder are watched and their letters come within seconds)"},
	{name: "CRM_IMAP_MARK_SEEN", def: "false", help: "mark stored letters as seen (the mailbox is otherwise never changed)"},
	{name: "CRM_IMAP_MOVE_TO", help: "move stored letters to this folder (empty: leave them)"},
	{name: "CRM_MAIL_OWN_DOMAINS", help: "the company's mail domains, comma-separated (default: the mailboxes' login domains); their addresses are never clients"},
	{name: "CRM_MAIL_ATTACHMENT_LIMIT_MB", def: defaultFileLimitMB, help: "attachments up to this size are kept in the database; larger ones are recorded without content"},
	{name: "CRM_REPLY_SLA", def: "4h", help: "working time a client's letter may wait for an answer before its manager is alerted (then their head, after as long again); 0 turns it off"},
	{name: "CRM_TIMEZONE", def: "Europe/Moscow", help: "the company's time zone: working hours, and people and contacts who set none"},
	{name: "CRM_WORK_HOURS", def: "09:00-18:00", help: "the company's working hours"},
	{name: "CRM_WORK_DAYS", def: "mon-fri", help: "the company's working days, e.g. mon-fri or mon-sat or mon,tue,thu"},
	{name: "CRM_SMTP_HOST", help: "outgoing mail server for greetings and mailings; empty: no mail is sent"},
	{name: "CRM_SMTP_PORT", help: "SMTP port (default 465 with tls, 587 with starttls, 25 with none)"},
	{name: "CRM_SMTP_SECURITY", def: "tls", help: "tls, starttls or none"},
	{name: "CRM_SMTP_USER", help: "SMTP login (empty: no authentication)"},
	{name: "CRM_SMTP_PASSWORD", help: "SMTP password", secret: true},
	{name: "CRM_SMTP_FROM", help: "the address letters come from, e.g. hello@company.ru (default: CRM_SMTP_USER); the display name is the manager's"},
	{name: "CRM_MAIL_SENDER_NAME", help: "the company's name in letters: it signs those to clients without a manager and names the company on the unsubscribe page (default: CRM_SMTP_FROM's display name, else its domain)"},
	{name: "CRM_SMTP_CONNS", def: "4", help: "SMTP connections kept open for sending"},
	{name: "CRM_SMTP_RATE", def: "0", help: "at most this many messages in any one second (0: no limit)"},
	{name: "CRM_SMTP_DAILY_LIMIT", def: "0", help: "at most this many messages a day (0: no limit)"},
	{name: "CRM_PUBLIC_URL", help: "the address recipients reach the HTTP listener at, e.g. https://crm.example.com (unsubscribe links)"},
	{name: "CRM_UNSUBSCRIBE_SECRET", help: "signs unsubscribe links: at least 16 random characters; keep it when restarting", secret: true},
	{name: "CRM_GREETING_HOUR", def: "10", help: "local hour (contact's time zone, else CRM_TIMEZONE) birthday greetings go out"},
	{name: "CRM_CAMPAIGN_TAKEOVER", def: "30s", help: "how long a mailing's batch, or the bot's outgoing messages, stay with an instance that stopped answering before another instance, or the restarted one, sends the rest (5s to 10m)"},
	{name: "CRM_AT_RISK_DAYS", def: "90", help: "days a gold or platinum client may go without a paid order before its manager is told it is at risk (7 to 730)"},
	{name: "CRM_BACKUP_DIR", help: "crm serve writes a backup here every night after 02:00 (company time), crm-YYYY-MM-DD.backup, on one instance; empty: no nightly backup"},
	{name: "CRM_BACKUP_KEEP", def: "7", help: "how many nightly backups to keep in CRM_BACKUP_DIR (1 to 365)"},
	{name: "CRM_LOG_LEVEL", def: "info", help: "debug, info, warn or error"},
	{name: "CRM_LOG_FORMAT", def: "text", help: "text or json"},
}

// Config is the whole configuration of the binary.
type Config struct {
	MongoURI    string
	Database    string
	DataDir     string
	HTTPAddr    string
	PhoneRegion string
	LogLevel    string
	LogFormat   string

	TelegramToken         string
	TelegramAPIURL        string
	TelegramWebhookURL    string
	TelegramWebhookSecret string
	TelegramBotName       string
	BotFileLimit          int64 // bytes

	Mailboxes       []mail.Account
	OwnDomains      []string
	AttachmentLimit int64 // bytes
	ReplySLA        time.Duration
	Calendar        store.WorkCalendar

	SMTP     *mail.SMTPConfig // nil: no mail is sent
	MailFrom string
	// SenderName is the company's name in letters (CRM_MAIL_SENDER_NAME).
	SenderName   string
	GreetingHour int
	// Takeover is how long a campaign batch, or an outbox lane of the bot, stays with
	// an instance that went silent.
	Takeover time.Duration
	// RiskAfter is how long a gold or platinum client may go without an order.
	RiskAfter time.Duration

	PublicURL         string
	UnsubscribeSecret string

	// BackupDir takes a backup every night (CRM_BACKUP_DIR, "": none); BackupKeep of
	// them are kept.
	BackupDir  string
	BackupKeep int

	// Now is the clock of everything the command runs: time.Now, a fixed day in tests.
	Now func() time.Time
	// DBMonitor sees the database commands of the stores opened (crm serve times them
	// for /metrics); nil: none.
	DBMonitor *event.CommandMonitor
}

// loadConfig reads CRM_* variables, first from the optional file named by CRM_CONFIG,
// then from the environment, which wins.
func loadConfig(getenv func(string) string) (Config, error) {
	values := map[string]string{}
	if path := getenv("CRM_CONFIG"); path != "" {
		if err := readConfigFile(path, values); err != nil {
			return Config{}, err
		}
	}
	get := func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		if v, ok := values[name]; ok {
			return v
		}
		for _, s := range settings {
			if s.name == name {
				return s.def
			}
		}
		return ""
	}
	c := Config{
		MongoURI:    get("CRM_MONGODB_URI"),
		Database:    get("CRM_MONGODB_DATABASE"),
		DataDir:     get("CRM_DATA_DIR"),
		HTTPAddr:    get("CRM_HTTP_ADDR"),
		PhoneRegion: strings.ToUpper(get("CRM_PHONE_REGION")),
		LogLevel:    strings.ToLower(get("CRM_LOG_LEVEL")),
		LogFormat:   strings.ToLower(get("CRM_LOG_FORMAT")),

		TelegramToken:         get("CRM_TELEGRAM_TOKEN"),
		TelegramAPIURL:        strings.TrimRight(get("CRM_TELEGRAM_API_URL"), "/"),
		TelegramWebhookURL:    get("CRM_TELEGRAM_WEBHOOK_URL"),
		TelegramWebhookSecret: get("CRM_TELEGRAM_WEBHOOK_SECRET"),
		TelegramBotName:       get("CRM_TELEGRAM_BOT_NAME"),

		Now: time.Now,
	}
	var err error
	if c.BotFileLimit, err = fileLimit(get, "CRM_BOT_FILE_LIMIT_MB"); err != nil {
		return c, err
	}
	if c.Mailboxes, err = mailAccounts(get); err != nil {
		return c, err
	}
	c.OwnDomains = splitComma(strings.ToLower(get("CRM_MAIL_OWN_DOMAINS")))
	if len(c.OwnDomains) == 0 {
		for _, m := range c.Mailboxes {
			if _, d, ok := strings.Cut(strings.ToLower(m.User), "@"); ok && !slices.Contains(c.OwnDomains, d) {
				c.OwnDomains = append(c.OwnDomains, d)
			}
		}
	}
	if c.AttachmentLimit, err = fileLimit(get, "CRM_MAIL_ATTACHMENT_LIMIT_MB"); err != nil {
		return c, err
	}
	if c.ReplySLA, err = time.ParseDuration(get("CRM_REPLY_SLA")); err != nil || c.ReplySLA < 0 {
		return c, fmt.Errorf("CRM_REPLY_SLA=%q: use a duration of working time such as 4h or 90m (0 turns it off)", get("CRM_REPLY_SLA"))
	}
	loc, err := time.LoadLocation(get("CRM_TIMEZONE"))
	if err != nil {
		return c, fmt.Errorf("CRM_TIMEZONE=%q: use a zone name such as Europe/Moscow or Asia/Vladivostok", get("CRM_TIMEZONE"))
	}
	if c.Calendar, err = store.ParseWorkCalendar(loc, get("CRM_WORK_HOURS"), get("CRM_WORK_DAYS")); err != nil {
		return c, fmt.Errorf("CRM_WORK_HOURS/CRM_WORK_DAYS: %w", err)
	}
	if c.SMTP, c.MailFrom, err = smtpConfig(get); err != nil {
		return c, err
	}
	if c.SenderName = strings.TrimSpace(get("CRM_MAIL_SENDER_NAME")); c.SenderName == "" {
		// Also where no server is set: crm campaign create signs its check's letters.
		c.SenderName = campaign.DefaultSenderName(cmp.Or(c.MailFrom, strings.TrimSpace(get("CRM_SMTP_FROM"))))
	}
	c.PublicURL, c.UnsubscribeSecret = strings.TrimRight(get("CRM_PUBLIC_URL"), "/"), get("CRM_UNSUBSCRIBE_SECRET")
	if c.PublicURL != "" || c.UnsubscribeSecret != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, fmt.Errorf("CRM_PUBLIC_URL=%q: use the address recipients reach this server at, e.g. https://crm.example.com", c.PublicURL)
		}
		if len(c.UnsubscribeSecret) < 16 {
			return c, fmt.Errorf("CRM_UNSUBSCRIBE_SECRET: set at least 16 random characters; it signs every unsubscribe link")
		}
	}
	if c.GreetingHour, err = strconv.Atoi(get("CRM_GREETING_HOUR")); err != nil || c.GreetingHour < 0 || c.GreetingHour > 23 {
		return c, fmt.Errorf("CRM_GREETING_HOUR=%q: use an hour from 0 to 23", get("CRM_GREETING_HOUR"))
	}
	if c.Takeover, err = time.ParseDuration(get("CRM_CAMPAIGN_TAKEOVER")); err != nil || c.Takeover < 5*time.Second || c.Takeover > 10*time.Minute {
		return c, fmt.Errorf("CRM_CAMPAIGN_TAKEOVER=%q: use a duration from 5s to 10m, e.g. 30s", get("CRM_CAMPAIGN_TAKEOVER"))
	}
	days, err := strconv.Atoi(get("CRM_AT_RISK_DAYS"))
	if err != nil || days < 7 || days > 730 {
		return c, fmt.Errorf("CRM_AT_RISK_DAYS=%q: use a number of days from 7 to 730", get("CRM_AT_RISK_DAYS"))
	}
	c.RiskAfter = time.Duration(days) * 24 * time.Hour
	c.BackupDir = get("CRM_BACKUP_DIR")
	if c.BackupKeep, err = strconv.Atoi(get("CRM_BACKUP_KEEP")); err != nil || c.BackupKeep < 1 || c.BackupKeep > 365 {
		return c, fmt.Errorf("CRM_BACKUP_KEEP=%q: use a number of backups from 1 to 365", get("CRM_BACKUP_KEEP"))
	}
	if c.TelegramWebhookURL != "" {
		u, err := url.Parse(c.TelegramWebhookURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return c, fmt.Errorf("CRM_TELEGRAM_WEBHOOK_URL=%q: Telegram needs a public https:// URL", c.TelegramWebhookURL)
		}
		if len(c.TelegramWebhookSecret) < 16 {
			return c, fmt.Errorf("CRM_TELEGRAM_WEBHOOK_SECRET: set a secret of at least 16 letters, digits, _ or - with a webhook, so that nobody else can post updates")
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return c, fmt.Errorf("CRM_LOG_LEVEL=%q: use debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("CRM_LOG_FORMAT=%q: use text or json", c.LogFormat)
	}
	if len(c.PhoneRegion) != 2 {
		return c, fmt.Errorf("CRM_PHONE_REGION=%q: use a two-letter country code such as RU", c.PhoneRegion)
	}
	return c, nil
}

// smtpConfig reads the outgoing mail settings; nil when no server is set.
func smtpConfig(get func(string) string) (*mail.SMTPConfig, string, error) {
	host := strings.TrimSpace(get("CRM_SMTP_HOST"))
	if host == "" {
		return nil, "", nil
	}
	cfg := &mail.SMTPConfig{Host: host, Security: strings.ToLower(get("CRM_SMTP_SECURITY")), User: get("CRM_SMTP_USER"), Password: get("CRM_SMTP_PASSWORD")}
	switch cfg.Security {
	case "tls", "starttls", "none":
	default:
		return nil, "", fmt.Errorf("CRM_SMTP_SECURITY=%q: use tls, starttls or none", cfg.Security)
	}
	whole := func(name string, min, max int) (int, error) {
		v := get(name)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return 0, fmt.Errorf("%s=%q: use a whole number from %d to %d", name, v, min, max)
		}
		return n, nil
	}
	var err error
	if cfg.Port, err = whole("CRM_SMTP_PORT", 1, 65535); err != nil {
		return nil, "", err
	}
	if cfg.Conns, err = whole("CRM_SMTP_CONNS", 1, 64); err != nil {
		return nil, "", err
	}
	perSecond, err := whole("CRM_SMTP_RATE", 0, 100000)
	if err != nil {
		return nil, "", err
	}
	cfg.PerSecond = float64(perSecond)
	if cfg.PerDay, err = whole("CRM_SMTP_DAILY_LIMIT", 0, 100000000); err != nil {
		return nil, "", err
	}
	from := strings.TrimSpace(get("CRM_SMTP_FROM"))
	if from == "" {
		from = cfg.User
	}
	if _, err := netmail.ParseAddress(from); err != nil {
		return nil, "", fmt.Errorf("CRM_SMTP_FROM=%q: set the address letters come from, e.g. hello@company.ru", from)
	}
	return cfg, from, nil
}

func readConfigFile(path string, into map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("CRM_CONFIG: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, value, ok := strings.Cut(text, "=")
		name = strings.TrimSpace(strings.TrimPrefix(name, "export "))
		if !ok || !strings.HasPrefix(name, "CRM_") {
			return fmt.Errorf("%s line %d: expected CRM_NAME=value", path, line)
		}
		into[name] = strings.Trim(strings.TrimSpace(value), `"'`)
	}
	return sc.Err()
}

// fileLimit reads a size setting in megabytes: from 1 up to the most a file
// document of the store keeps.
func fileLimit(get func(string) string, name string) (int64, error) {
	most := store.MaxStoredFile >> 20
	mb, err := strconv.Atoi(get(name))
	if err != nil || mb < 1 || mb > most {
		return 0, fmt.Errorf("%s=%q: use a whole number of megabytes from 1 to %d", name, get(name), most)
	}
	return int64(mb) << 20, nil
}
