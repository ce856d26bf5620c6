package embedded

import (
	"context"
	"log/slog"
)

// quietHandler passes on only errors: FerretDB logs every connection at debug and
// dumps every failed command (a duplicate key, a driver's endSessions) as a warning.
//
// FerretDB also calls Logger.With with each SQL statement's arguments (whole
// documents) before every debug line; a handler's WithAttrs formats them at once, so
// they are kept as given and applied only when an error is written.
type quietHandler struct {
	h    slog.Handler
	with []func(slog.Handler) slog.Handler // in order; nil entries never occur
}

func (q quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError && q.h.Enabled(ctx, l)
}

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	h := q.h
	for _, f := range q.with {
		h = f(h)
	}
	return h.Handle(ctx, r)
}

func (q quietHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return q.then(func(h slog.Handler) slog.Handler { return h.WithAttrs(a) })
}

func (q quietHandler) WithGroup(name string) slog.Handler {
	return q.then(func(h slog.Handler) slog.Handler { return h.WithGroup(name) })
}

func (q quietHandler) then(f func(slog.Handler) slog.Handler) quietHandler {
	// A fresh slice: handlers derived from one parent must not share appends.
	with := make([]func(slog.Handler) slog.Handler, len(q.with), len(q.with)+1)
	copy(with, q.with)
	return quietHandler{h: q.h, with: append(with, f)}
}
