package history

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// formatTurnsSQL is the turns table as formats 1 and 2 made it: without where the reply was
// computed.
const formatTurnsSQL = `
CREATE TABLE conversations (id INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, mode TEXT NOT NULL DEFAULT '');
CREATE TABLE turns (
	id INTEGER PRIMARY KEY,
	conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	started_at INTEGER NOT NULL, ended_at INTEGER, status TEXT NOT NULL DEFAULT 'in_progress',
	transcript TEXT NOT NULL DEFAULT '', reply TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '',
	asr_model TEXT NOT NULL DEFAULT '', llm_model TEXT NOT NULL DEFAULT '',
	asr_ms INTEGER, first_token_ms INTEGER, llm_ms INTEGER, tts_ms INTEGER, total_ms INTEGER,
	audio BLOB, audio_rate INTEGER);
INSERT INTO conversations VALUES (1, 1700000000000, 'desktop');
INSERT INTO turns(conversation_id, started_at, ended_at, status, transcript, reply) VALUES (1, 1700000000000, 1700000001000, 'complete', 'old question', 'old answer');
`

// An older history opens: its turns read with no origin, and new turns record theirs.
func TestOlderFormatsGainTheOrigin(t *testing.T) {
	for _, v := range []int{1, 2} {
		t.Run(fmt.Sprintf("format %d", v), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.db")
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			stmts := formatTurnsSQL
			if v == 2 {
				stmts += actionsSQL
			}
			if _, err := db.Exec(stmts + fmt.Sprintf("PRAGMA user_version = %d;", v)); err != nil {
				t.Fatal(err)
			}
			db.Close()

			s := open(t, path, Options{})
			old, err := s.Conversation(ctx, 1)
			if err != nil || len(old.Turns) != 1 || old.Turns[0].Reply != "old answer" || old.Turns[0].Origin != (Origin{}) {
				t.Fatalf("old conversation after the update = %+v, %v", old, err)
			}
			if _, err := s.Actions(ctx, 0, 0); err != nil {
				t.Errorf("the audit trail after the update: %v", err)
			}
			for _, o := range []Origin{{On: ComputedDevice}, {On: ComputedServer, Server: "edge-1"},
				{On: ComputedFallback, Server: "edge-1", Fallback: "connection refused"}} {
				id, err := s.StartTurn(ctx, 1, TurnStart{})
				if err != nil {
					t.Fatal(err)
				}
				must(t, s.FinishTurn(ctx, id, TurnEnd{Reply: "new answer", Origin: o}))
				got, err := s.Turn(ctx, id)
				if err != nil || got.Origin != o {
					t.Errorf("turn finished with %+v reads back as %+v, %v", o, got.Origin, err)
				}
			}
			s.Close()
			var got int
			s2 := open(t, path, Options{})
			if err := s2.db.QueryRow(`PRAGMA user_version`).Scan(&got); err != nil || got != schemaVersion {
				t.Errorf("format after the update = %d, %v; want %d", got, err, schemaVersion)
			}
		})
	}
}
