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
// Idempotency-Key, and answers with X-Event-Position.
func (s *Server) command(f commandFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := s.enterOrganization(c); err != nil {
			writeProblem(c, err)
			return
		}
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
			a, err := s.run(c, f, body)
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
		a, err := s.run(c, f, body)
		if err != nil {
			s.releaseIdempotencyKey(p.Subject, key)
			writeProblem(c, err)
			return
		}
		s.writeAnswer(c, a)
		s.recordIdempotencyKey(c.Request.Context(), p.Subject, key, append(a.people, s.actor(c).EmailRef), a)
	}
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
