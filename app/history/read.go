package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Conversation is a conversation with its turns (Turns is empty in Conversations' list).
type Conversation struct {
	ID      int64     `json:"id"`
	Started time.Time `json:"started"`
	Mode    string    `json:"mode,omitempty"`
	// TurnCount and LastActivity summarize the turns; Preview is the first transcript.
	TurnCount    int       `json:"-"`
	LastActivity time.Time `json:"-"`
	Preview      string    `json:"-"`
	Turns        []Turn    `json:"turns"`
}

// Turn is one exchange: what the person said and what Hark answered.
type Turn struct {
	ID         int64         `json:"id"`
	Started    time.Time     `json:"started"`
	Ended      time.Time     `json:"ended,omitzero"`
	Status     Status        `json:"status"`
	Transcript string        `json:"transcript"`
	Reply      string        `json:"reply"`
	Error      string        `json:"error,omitempty"`
	ASRModel   string        `json:"asr_model,omitempty"`
	LLMModel   string        `json:"llm_model,omitempty"`
	Timings    TimingsMillis `json:"timings_ms"`
	Origin
	// Audio is the stored utterance, if any (Options.StoreAudio); not exported to JSON.
	Audio     []float32 `json:"-"`
	AudioRate int       `json:"audio_rate,omitempty"`
	// AudioSeconds is the length of the stored audio.
	AudioSeconds float64 `json:"audio_seconds,omitempty"`
}

// Interrupted tells whether the turn was stopped before its reply ended.
func (t Turn) Interrupted() bool { return t.Status == Interrupted }

// TimingsMillis are a turn's stage timings in milliseconds (omitted when a stage did not run).
type TimingsMillis struct {
	ASR        int64 `json:"asr,omitempty"`
	FirstToken int64 `json:"first_token,omitempty"`
	LLM        int64 `json:"llm,omitempty"`
	TTS        int64 `json:"tts,omitempty"`
	Total      int64 `json:"total,omitempty"`
}

// ListOptions filter Conversations.
type ListOptions struct {
	Limit int       // most recent first; 0 = all
	Since time.Time // only conversations with activity since then; zero = all
}

// Conversations lists conversations, most recently active first, without their turns.
func (s *Store) Conversations(ctx context.Context, o ListOptions) ([]Conversation, error) {
	limit := o.Limit
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT c.id, c.started_at, c.mode, COUNT(t.id), COALESCE(MAX(t.started_at), c.started_at),
		       COALESCE((SELECT transcript FROM turns WHERE conversation_id = c.id AND transcript != '' ORDER BY id LIMIT 1), '')
		FROM conversations c LEFT JOIN turns t ON t.conversation_id = c.id
		GROUP BY c.id
		HAVING COALESCE(MAX(t.started_at), c.started_at) >= ?
		ORDER BY 5 DESC, c.id DESC
		LIMIT ?`, sinceMS(o.Since), limit)
	if err != nil {
		return nil, fmt.Errorf("history: list: %w", err)
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		var c Conversation
		var started, last int64
		if err := rows.Scan(&c.ID, &started, &c.Mode, &c.TurnCount, &last, &c.Preview); err != nil {
			return nil, fmt.Errorf("history: list: %w", err)
		}
		c.Started, c.LastActivity = time.UnixMilli(started), time.UnixMilli(last)
		out = append(out, c)
	}
	return out, rows.Err()
}

func sinceMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Conversation returns one conversation with all its turns.
func (s *Store) Conversation(ctx context.Context, id int64) (Conversation, error) {
	var c Conversation
	var started int64
	err := s.db.QueryRowContext(ctx, `SELECT id, started_at, mode FROM conversations WHERE id = ?`, id).Scan(&c.ID, &started, &c.Mode)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("history: conversation %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("history: %w", err)
	}
	c.Started = time.UnixMilli(started)
	c.Turns, err = s.turns(ctx, `WHERE conversation_id = ? ORDER BY id`, id)
	c.TurnCount = len(c.Turns)
	c.LastActivity = c.Started
	if n := len(c.Turns); n > 0 {
		c.LastActivity = c.Turns[n-1].Started
		c.Preview = c.Turns[0].Transcript
	}
	return c, err
}

// Turn returns one turn.
func (s *Store) Turn(ctx context.Context, id int64) (Turn, error) {
	ts, err := s.turns(ctx, `WHERE id = ?`, id)
	if err != nil {
		return Turn{}, err
	}
	if len(ts) == 0 {
		return Turn{}, fmt.Errorf("history: turn %d: %w", id, ErrNotFound)
	}
	return ts[0], nil
}

func (s *Store) turns(ctx context.Context, where string, args ...any) ([]Turn, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, started_at, ended_at, status, transcript, reply, error, asr_model, llm_model,
		asr_ms, first_token_ms, llm_ms, tts_ms, total_ms, audio, audio_rate, computed_on, server, fallback FROM turns `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	var out []Turn
	for rows.Next() {
		var t Turn
		var started int64
		var ended, asr, first, llm, tts, total, rate sql.NullInt64
		var audio []byte
		if err := rows.Scan(&t.ID, &started, &ended, &t.Status, &t.Transcript, &t.Reply, &t.Error, &t.ASRModel, &t.LLMModel,
			&asr, &first, &llm, &tts, &total, &audio, &rate, &t.On, &t.Server, &t.Fallback); err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		t.Started = time.UnixMilli(started)
		if ended.Valid {
			t.Ended = time.UnixMilli(ended.Int64)
		}
		t.Timings = TimingsMillis{asr.Int64, first.Int64, llm.Int64, tts.Int64, total.Int64}
		if len(audio) > 0 && rate.Int64 > 0 {
			t.Audio, t.AudioRate = decodePCM16(audio), int(rate.Int64)
			t.AudioSeconds = float64(len(t.Audio)) / float64(t.AudioRate)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Export writes the history (conversations active since since; zero: all) as one JSON
// document. Stored audio is not included, only its length.
func (s *Store) Export(ctx context.Context, w io.Writer, since time.Time) error {
	list, err := s.Conversations(ctx, ListOptions{Since: since})
	if err != nil {
		return err
	}
	doc := struct {
		Format        string         `json:"format"`
		Version       int            `json:"version"`
		Exported      time.Time      `json:"exported"`
		Conversations []Conversation `json:"conversations"`
	}{"hark-history", 1, s.opts.Now().UTC().Truncate(time.Second), []Conversation{}}
	for i := len(list) - 1; i >= 0; i-- { // oldest first, the way a transcript reads
		c, err := s.Conversation(ctx, list[i].ID)
		if err != nil {
			return err
		}
		if c.Turns == nil {
			c.Turns = []Turn{}
		}
		doc.Conversations = append(doc.Conversations, c)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("history: export: %w", err)
	}
	return nil
}
