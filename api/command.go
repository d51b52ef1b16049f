package api

import (
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"

	"github.com/gin-gonic/gin"

	"partners/domain"
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

// command wraps a command handler: it reads the body once, honours
// Idempotency-Key, and answers with X-Event-Position. A command that runs
// records the caller's newer verified email in its organization with its
// own events, or alone when refused (app's command path), in the round
// trips it makes anyway; an answer the command did not give (refused here,
// replayed) enters the organization first, as a query does.
func (s *Server) command(f commandFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := io.ReadAll(c.Request.Body)
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.refuse(c, edge(codeBodyTooLarge, "The request body is too large."))
			return
		}
		if err != nil {
			s.refuse(c, edge(codeMalformed, "The request body could not be read."))
			return
		}
		key := c.GetHeader("Idempotency-Key")
		if key == "" {
			a, err := s.run(c, f, body)
			if err != nil {
				s.refuse(c, err)
				return
			}
			s.writeAnswer(c, a)
			return
		}
		if !idempotencyKeyPattern.MatchString(key) {
			s.refuse(c, domain.Invalid("Idempotency-Key", "must be 1 to 255 visible ASCII characters"))
			return
		}
		p, _ := principalOf(c)
		h := sha256.New()
		h.Write([]byte(c.Request.Method + " " + c.Request.URL.Path + "\n"))
		h.Write(body)
		hash := h.Sum(nil)
		replayed, err := s.claimIdempotencyKey(c.Request.Context(), p.Subject, key, hash)
		if err != nil {
			s.refuse(c, err)
			return
		}
		if replayed != nil {
			if err := s.enterOrganization(c); err != nil {
				writeProblem(c, err)
				return
			}
			c.Header("Idempotency-Replayed", "true")
			c.Header("X-Event-Position", strconv.FormatInt(replayed.position, 10))
			c.Data(replayed.status, "application/json; charset=utf-8", replayed.raw)
			return
		}
		a, err := s.run(c, f, body)
		if err != nil {
			s.releaseIdempotencyKey(p.Subject, key)
			s.refuse(c, err)
			return
		}
		s.writeAnswer(c, a)
		s.recordIdempotencyKey(c.Request.Context(), p.Subject, key, append(a.people, s.actor(c).EmailRef), a)
	}
}

// refuse answers a command that appended nothing of its own. Its
// organization is entered first (a refusal from the command's decision
// recorded the newer email already: entering reads it and appends
// nothing); failing that, the refusal is still the answer.
func (s *Server) refuse(c *gin.Context, err error) {
	if eerr := s.enterOrganization(c); eerr != nil {
		c.Error(eerr) //nolint:errcheck // logged by the request logger
	}
	writeProblem(c, err)
}

// run runs a command within its organization's limits and email budget,
// and counts it against them once it ran. A replayed answer runs nothing
// and counts nothing.
func (s *Server) run(c *gin.Context, f commandFunc, body []byte) (answer, error) {
	adm, err := s.admit(c, body)
	if err != nil {
		return answer{}, err
	}
	a, err := f(c, body)
	if err == nil {
		s.spend(c.Request.Context(), adm)
	}
	return a, err
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
