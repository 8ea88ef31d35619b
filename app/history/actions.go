package history

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Action is one audited action: what the person asked, which tool ran (or did not) with what
// arguments, whether they confirmed it, and what came of it.
type Action struct {
	ID           int64         `json:"id"`
	Conversation int64         `json:"conversation,omitempty"` // 0: none (a timer's ring)
	At           time.Time     `json:"at"`
	Input        string        `json:"input"`
	Tool         string        `json:"tool"`
	Args         string        `json:"args"`
	Source       string        `json:"source"`              // intent, model
	Confirmed    string        `json:"confirmed,omitempty"` // yes, no, timeout, dropped; "" when not asked
	Done         bool          `json:"done"`
	Result       string        `json:"result,omitempty"`
	Error        string        `json:"error,omitempty"`
	Duration     time.Duration `json:"duration_ns,omitempty"`
}

// AddAction records an action in the audit trail.
func (s *Store) AddAction(ctx context.Context, a Action) (int64, error) {
	var conv any
	if a.Conversation != 0 {
		conv = a.Conversation
	}
	if a.Args == "" {
		a.Args = "{}"
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO actions(conversation_id, at, input, tool, args, source, confirmed, done, result, error, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, conv, ms(a.At), a.Input, a.Tool, a.Args, a.Source, a.Confirmed, a.Done, a.Result, a.Error,
		float64(a.Duration)/float64(time.Millisecond))
	if err != nil {
		return 0, fmt.Errorf("history: record action: %w", err)
	}
	return res.LastInsertId()
}

// Actions lists the audit trail, newest first: of one conversation (conversation > 0), or all
// (limit 0: no limit).
func (s *Store) Actions(ctx context.Context, conversation int64, limit int) ([]Action, error) {
	q := `SELECT id, COALESCE(conversation_id, 0), at, input, tool, args, source, confirmed, done, result, error, duration_ms FROM actions`
	var args []any
	if conversation > 0 {
		q += ` WHERE conversation_id = ?`
		args = append(args, conversation)
	}
	q += ` ORDER BY at DESC, id DESC`
	if limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("history: actions: %w", err)
	}
	defer rows.Close()
	var out []Action
	for rows.Next() {
		var a Action
		var at int64
		var dur sql.NullFloat64
		if err := rows.Scan(&a.ID, &a.Conversation, &at, &a.Input, &a.Tool, &a.Args, &a.Source, &a.Confirmed, &a.Done, &a.Result, &a.Error, &dur); err != nil {
			return nil, fmt.Errorf("history: actions: %w", err)
		}
		a.At = time.UnixMilli(at)
		if dur.Valid {
			a.Duration = time.Duration(dur.Float64 * float64(time.Millisecond))
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
