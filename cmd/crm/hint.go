package main

// hinted is a library's error with what to do about it in this binary's terms: the
// packages say what failed, and only crm knows which of its settings to check.
type hinted struct {
	err  error
	hint string
}

func (h hinted) Error() string { return h.err.Error() + " (" + h.hint + ")" }
func (h hinted) Unwrap() error { return h.err }

// hint adds a hint to err; nil stays nil.
func hint(err error, what string) error {
	if err == nil {
		return nil
	}
	return hinted{err, what}
}

// databaseHint says which setting to check when the database fails.
func databaseHint(cfg Config) string {
	if cfg.MongoURI != "" {
		return "check CRM_MONGODB_URI: host, port, user and password, and that the server runs"
	}
	return "check CRM_DATA_DIR"
}
