package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"partners/domain"
)

// The idempotency records: the api's own table, idempotency_keys. Its SQL is
// all here; eventstore.PruneExpired deletes the records past their 24 hours.

// idempotencyTTL is how long a key is remembered.
const idempotencyTTL = 24 * time.Hour

type storedAnswer struct {
	status   int
	position int64
	raw      []byte
}

// claimIdempotencyKey returns the stored answer of a finished request with
// the same key, or takes the key for this request. A key in use by a request
// still running is a 409; a key reused with another body is a 422.
func (s *Server) claimIdempotencyKey(ctx context.Context, userID, key string, hash []byte) (*storedAnswer, error) {
	var status int
	var position int64
	var body, storedHash []byte
	err := s.cfg.Pool.QueryRow(ctx, `
		INSERT INTO idempotency_keys (user_id, key, request_hash, status, position, body)
		VALUES ($1, $2, $3, 0, 0, '')
		ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash, status = 0,
			position = 0, body = '', person_refs = '{}', created_at = now()
		 WHERE idempotency_keys.created_at < now() - $4::interval
		    OR (idempotency_keys.status = 0 AND idempotency_keys.created_at < now() - interval '2 minutes')
		RETURNING status`, userID, key, hash, idempotencyTTL.String()).Scan(&status)
	if err == nil {
		return nil, nil // the key is ours
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	err = s.cfg.Pool.QueryRow(ctx, `SELECT request_hash, status, position, body FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
		userID, key).Scan(&storedHash, &status, &position, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return s.claimIdempotencyKey(ctx, userID, key, hash)
	}
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(storedHash, hash) {
		return nil, domain.Errorf(domain.CodeIdempotencyKeyReused, "This Idempotency-Key was already used for a different request.")
	}
	if status == 0 {
		return nil, edge(codeRequestInProgress, "A request with this Idempotency-Key is still being processed.")
	}
	return &storedAnswer{status: status, position: position, raw: body}, nil
}

func (s *Server) releaseIdempotencyKey(userID, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = s.cfg.Pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status = 0`, userID, key)
}

func (s *Server) recordIdempotencyKey(ctx context.Context, userID, key string, people []domain.PersonRef, a answer) {
	raw := []byte{}
	if a.body != nil && a.status != http.StatusNoContent {
		b, err := json.Marshal(a.body)
		if err == nil && len(a.secrets) > 0 {
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				for _, k := range a.secrets {
					if _, ok := m[k]; ok {
						m[k] = nil
					}
				}
				b, err = json.Marshal(m)
			}
		}
		if err != nil {
			s.releaseIdempotencyKey(userID, key)
			return
		}
		raw = b
	}
	refs := make([]string, 0, len(people))
	for _, r := range people {
		if r != "" {
			refs = append(refs, string(r))
		}
	}
	ctx = context.WithoutCancel(ctx)
	if _, err := s.cfg.Pool.Exec(ctx, `UPDATE idempotency_keys SET status = $3, position = $4, body = $5, person_refs = $6
		WHERE user_id = $1 AND key = $2`, userID, key, a.status, a.position, raw, refs); err != nil {
		s.cfg.Log.Warn("idempotency record not saved", "err", err)
	}
}

// ForgetIdempotencyRecords deletes, inside the transaction that forgets a
// person, the recorded answers that repeat their data (app.Eraser).
func ForgetIdempotencyRecords(ctx context.Context, tx pgx.Tx, ref domain.PersonRef) error {
	if _, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE person_refs @> ARRAY[$1]::text[]`, string(ref)); err != nil {
		return fmt.Errorf("forget idempotency records: %w", err)
	}
	return nil
}
