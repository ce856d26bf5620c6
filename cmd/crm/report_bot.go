package main

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/crm-team/crm/bot"
	"github.com/crm-team/crm/reports"
	"github.com/crm-team/crm/reports/chart"
	"github.com/crm-team/crm/reports/sheet"
	"github.com/crm-team/crm/store"
)

// chatReports draws the bot's /report (bot.Reports) with the reports package: the bot
// does not import it.
type chatReports struct {
	s   *store.Store
	now func() time.Time
}

// layout computes the report ask names, in its language's labels.
func (r chatReports) layout(ctx context.Context, ask bot.ReportAsk) (reports.Layout, reports.Words, error) {
	words, err := reports.LoadWords(ask.Lang)
	if err != nil {
		return reports.Layout{}, words, err
	}
	req := reports.Request{Name: ask.Name, Period: reports.Period{From: ask.From, To: ask.To}, Own: ask.Own}
	l, err := reports.Build(ctx, r.s, req, words, r.now())
	return l, words, err
}

func (r chatReports) Report(ctx context.Context, ask bot.ReportAsk) (bot.ReportView, error) {
	l, words, err := r.layout(ctx, ask)
	if err != nil {
		return bot.ReportView{}, err
	}
	v := bot.ReportView{Title: l.Title, Summary: l.Summary}
	if l.Empty {
		v.Empty, v.NoData = true, words.NoData()
		return v, nil
	}
	var buf bytes.Buffer
	switch err := chart.PNG(&buf, l.Chart); {
	case errors.Is(err, chart.ErrNoData):
		// The tables have figures the chart does not draw (the managers' notes and
		// tasks, say): the key figures and the spreadsheet come without a picture.
	case err != nil:
		return bot.ReportView{}, err
	default:
		v.PNG = buf.Bytes()
	}
	return v, nil
}

func (r chatReports) Spreadsheet(ctx context.Context, ask bot.ReportAsk) ([]byte, error) {
	l, _, err := r.layout(ctx, ask)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := sheet.XLSX(&buf, l.Tables...); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
