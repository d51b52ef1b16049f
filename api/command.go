package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"partners/domain"
	"partners/projections"
)

// answer is what a command handler hands back to the edge.
type answer struct {
	status   int
	position int64
	body     any
	// secrets are top-level fields of body that a replay must not repeat.
	secrets []string
	// people are the persons whose data body holds (forgetting one deletes
	// the idempotency record).
	people []domain.PersonRef
}

type commandFunc func(c *gin.Context, body []byte) (answer, error)

var idempotencyKeyPattern = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

// idempotencyTTL is how long a key is remembered.
const idempotencyTTL = 24 * time.Hour

// command wraps a command handler: it reads the body once, honours
// Idempotency-Key, and answers with X-Event-Position.
func (s *Server) command(f commandFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := io.ReadAll(c.Request.Body)
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(c, edge(codeBodyTooLarge, "The request body is too large."))
			return
		}
		if err != nil {
			writeProblem(c, edge(codeMalformed, "The request body could not be read."))
			return
		}
		key := c.GetHeader("Idempotency-Key")
		if key == "" {
			a, err := f(c, body)
			if err != nil {
				writeProblem(c, err)
				return
			}
			s.writeAnswer(c, a)
			return
		}
		if !idempotencyKeyPattern.MatchString(key) {
			writeProblem(c, domain.Invalid("Idempotency-Key", "must be 1 to 255 visible ASCII characters"))
			return
		}
		p, _ := principalOf(c)
		h := sha256.New()
		h.Write([]byte(c.Request.Method + " " + c.Request.URL.Path + "\n"))
		h.Write(body)
		hash := h.Sum(nil)
		replayed, err := s.claimIdempotencyKey(c.Request.Context(), p.Subject, key, hash)
		if err != nil {
			writeProblem(c, err)
			return
		}
		if replayed != nil {
			c.Header("Idempotency-Replayed", "true")
			c.Header("X-Event-Position", strconv.FormatInt(replayed.position, 10))
			c.Data(replayed.status, "application/json; charset=utf-8", replayed.raw)
			return
		}
		a, err := f(c, body)
		if err != nil {
			s.releaseIdempotencyKey(p.Subject, key)
			writeProblem(c, err)
			return
		}
		s.writeAnswer(c, a)
		s.recordIdempotencyKey(c.Request.Context(), p.Subject, key, append(a.people, s.actor(c).EmailRef), a)
	}
}

func (s *Server) writeAnswer(c *gin.Context, a answer) {
	c.Header("X-Event-Position", strconv.FormatInt(a.position, 10))
	if a.status == http.StatusNoContent || a.body == nil {
		c.Status(a.status)
		c.Writer.WriteHeaderNow()
		return
	}
	c.JSON(a.status, a.body)
}

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

// consistent makes a query wait until the read models it reads have applied
// the event at ?min_position= (and everything ordered before it).
func (s *Server) consistent(names ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		raw := c.Query("min_position")
		if raw == "" || s.cfg.Projector == nil {
			c.Next()
			return
		}
		pos, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || pos < 0 || pos > 1<<53 {
			writeProblem(c, domain.Invalid("min_position", "must be a whole number from 0 to 2^53"))
			return
		}
		if err := s.cfg.Projector.WaitApplied(c.Request.Context(), names, pos, s.cfg.ConsistencyTimeout); err != nil {
			if errors.Is(err, projections.ErrBehind) {
				c.Header("Retry-After", "1")
				writeProblem(c, edge(codeProjectionBehind, "The read model has not reached that position yet. Try again shortly."))
				return
			}
			writeProblem(c, err)
			return
		}
		c.Next()
	}
}
