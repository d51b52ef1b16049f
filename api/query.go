package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/domain"
	"partners/projections"
)

// queryFunc is a query handler: it holds only its rule, and the frame
// (Server.get) writes what it returns (200) or the problem.
type queryFunc func(c *gin.Context) (any, error)

// reads is what a query reads, said once on its route.
type reads struct {
	// member scopes the query to the path's organization: the caller must
	// belong to it and be allowed this action (read from the organization's
	// events, see Server.member). Outsiders learn nothing: the organization
	// is "not found".
	member domain.Action
	// live read models are read as they are, even with ?as_of=.
	live []string
	// replayed read models answer ?as_of= as of that instant, from their
	// history or, where it does not reach, a replay of the events (see
	// Server.read, projections.AsOf); without it they are read live.
	replayed []string
}

// waitFor lists the read models a ?min_position= waits for: all it reads.
func (r reads) waitFor() []string {
	var names []string
	if r.member != "" {
		names = append(names, "members")
	}
	for _, n := range slices.Concat(r.live, r.replayed) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// scope is what the frame hands a query: its organization and the caller's
// grant there (when the route is scoped to one), and the read models an
// ?as_of= answer replays.
type scope struct {
	org      uuid.UUID
	grant    domain.Grant
	replayed []string
}

const keyScope = "query_scope"

func scopeOf(c *gin.Context) scope {
	sc, _ := c.Get(keyScope)
	s, _ := sc.(scope)
	return s
}

// orgOf is the organization of a query scoped to one, the caller checked.
func orgOf(c *gin.Context) uuid.UUID { return scopeOf(c).org }

// get registers a query: the frame checks the caller's membership, waits
// for ?min_position=, runs the handler and writes its answer. The
// membership is read from the events, which no position is ahead of, so it
// is checked first: someone removed or revoked is answered at once, and
// never holds a wait on an organization they do not belong to.
func (s *Server) get(r gin.IRoutes, path string, rd reads, f queryFunc) {
	s.query(r, http.MethodGet, path, rd, f)
}

// query is get under another method: POST for a query whose input is a
// secret (a link's token) that must stay out of URLs and proxies' logs.
func (s *Server) query(r gin.IRoutes, method, path string, rd reads, f queryFunc) {
	wait := rd.waitFor()
	r.Handle(method, path, func(c *gin.Context) {
		sc := scope{replayed: rd.replayed}
		if rd.member != "" {
			var err error
			if sc.org, sc.grant, err = s.member(c, rd.member); err != nil {
				writeProblem(c, err)
				return
			}
		}
		if err := s.waitApplied(c, wait); err != nil {
			writeProblem(c, err)
			return
		}
		c.Set(keyScope, sc)
		v, err := f(c)
		if err != nil {
			writeProblem(c, err)
			return
		}
		if _, done := v.(streamed); !done {
			c.JSON(http.StatusOK, v)
		}
	})
}

// streamed is what a handler returns when it wrote its answer itself (an
// export streamed as it is read).
type streamed struct{}

// waitApplied makes a query wait until the read models it reads have
// applied the event at ?min_position= (and everything ordered before it).
func (s *Server) waitApplied(c *gin.Context, names []string) error {
	raw := c.Query("min_position")
	if raw == "" || len(names) == 0 || s.cfg.Projector == nil {
		return nil
	}
	pos, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || pos < 0 || pos > 1<<53 {
		return domain.Invalid("min_position", "must be a whole number from 0 to 2^53")
	}
	if err := s.assigned(c.Request.Context(), pos); err != nil {
		return err
	}
	lim := s.cfg.Limits.Waits
	if s.cfg.Limits.Off {
		lim = Concurrent{}
	}
	// Per user only: the wait comes before the membership check, and an
	// outsider must not spend an organization's allowance.
	p, _ := principalOf(c)
	leave, ok := s.heavy.enter("wait", p.Subject, uuid.Nil, lim)
	if !ok {
		return tooManyAtOnce(c)
	}
	defer leave()
	err = s.cfg.Projector.WaitAppliedOn(c.Request.Context(), s.heavy.pool, names, pos, s.cfg.ConsistencyTimeout)
	if errors.Is(err, projections.ErrBehind) {
		return edge(codeProjectionBehind, "The read model has not reached that position yet. Try again shortly.")
	}
	return err
}

// assigned refuses at once a position no event was ever given: waiting for
// it would hold the request for nothing. Positions are read-your-writes
// tokens this service answered after the commit, so one at or below the
// highest committed position is known.
func (s *Server) assigned(ctx context.Context, pos int64) error {
	if pos <= s.highest.Load() {
		return nil
	}
	hi, err := s.cfg.App.Store.HighestPosition(ctx)
	if err != nil {
		return err
	}
	for {
		seen := s.highest.Load()
		if hi <= seen || s.highest.CompareAndSwap(seen, hi) {
			break
		}
	}
	if pos > hi {
		return domain.Invalid("min_position", "is beyond the last event recorded: use the X-Event-Position a command answered")
	}
	return nil
}

// orgParam reads the organization named by the path.
func orgParam(c *gin.Context) (uuid.UUID, error) { return pathUUID(c, "org", "organization") }

// member checks that the caller belongs to the path's organization and may
// do the action, from the organization's events (app.Enter): a read model
// may lag behind a revocation already acknowledged, the events never do.
// An ?as_of= answer is authorized the same way, by today's membership.
func (s *Server) member(c *gin.Context, action domain.Action) (uuid.UUID, domain.Grant, error) {
	org, err := orgParam(c)
	if err != nil {
		return uuid.Nil, domain.Grant{}, err
	}
	g, err := s.cfg.App.Enter(c.Request.Context(), s.actor(c), org)
	if err != nil {
		return uuid.Nil, g, err
	}
	if g.Role == "" {
		return uuid.Nil, g, domain.ErrOrganizationNotFound()
	}
	if d := domain.Authorize(g, action); !d.Allowed {
		return uuid.Nil, g, (&domain.Error{Code: domain.CodeNotAllowed,
			Message: "Your role in this organization does not allow this (" + d.Reason + ")."}).With("action", string(action))
	}
	return org, g, nil
}

func (s *Server) reader() projections.Reader { return projections.Reader{Q: s.cfg.Pool} }

// organization is the query's organization as the organizations read model
// holds it (read live).
func (s *Server) organization(c *gin.Context) (projections.OrganizationView, error) {
	o, ok, err := s.reader().Organization(c.Request.Context(), orgOf(c))
	if err == nil && !ok {
		err = domain.ErrOrganizationNotFound()
	}
	return o, err
}

// asOf reads ?as_of=: zero when absent; a future instant is refused.
func (s *Server) asOf(c *gin.Context) (time.Time, error) {
	raw := c.Query("as_of")
	if raw == "" {
		return time.Time{}, nil
	}
	if len(raw) > 64 {
		return time.Time{}, domain.Invalid("as_of", "must be an RFC 3339 time such as 2026-03-01T12:00:00Z")
	}
	t, err := parseTime("as_of", raw)
	if err != nil {
		return time.Time{}, err
	}
	if t.After(s.cfg.Now()) {
		return time.Time{}, domain.Invalid("as_of", "must not be in the future")
	}
	return t, nil
}

// read runs a query against the live read models, or, with ?as_of= on a
// route that replays, against the rows true at that instant
// (projections.AsOf: the read models' history, or a replay of the
// organization's events where the history does not reach); refs adds the
// streams carrying those people to a replay. now is the instant the answer
// is computed for (expiry depends on it).
func (s *Server) read(c *gin.Context, refs []string, fn func(ctx context.Context, r projections.Reader, now time.Time) error) error {
	sc := scopeOf(c)
	ctx := c.Request.Context()
	if len(sc.replayed) == 0 {
		return fn(ctx, s.reader(), s.cfg.Now())
	}
	at, err := s.asOf(c)
	if err != nil {
		return err
	}
	if at.IsZero() {
		return fn(ctx, s.reader(), s.cfg.Now())
	}
	ps, err := projections.ByName(sc.replayed...)
	if err != nil {
		return err
	}
	done, err := s.heavyRead(c, sc.org)
	if err != nil {
		return err
	}
	defer done()
	return projections.AsOf(ctx, s.heavy.store, ps, projections.Filter{Organization: sc.org, PersonRefs: refs, Until: at},
		func(ctx context.Context, r projections.Reader) error { return fn(ctx, r, at) })
}

// readOne answers one value read as Server.read reads.
func readOne[T any](s *Server, c *gin.Context, fn func(ctx context.Context, r projections.Reader) (T, error)) (any, error) {
	var v T
	err := s.read(c, nil, func(ctx context.Context, r projections.Reader, _ time.Time) (err error) {
		v, err = fn(ctx, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// pageFunc reads one page of a list sorted by its key.
type pageFunc[T any] func(ctx context.Context, r projections.Reader, now time.Time, p projections.Page) ([]T, string, error)

// readPage answers a list query: it reads ?limit= and ?cursor= for a list
// sorted by keyParts values, then the page as Server.read reads.
func readPage[T any](s *Server, c *gin.Context, keyParts int, refs []string, fn pageFunc[T]) (any, error) {
	p, err := pageOf(c, keyParts)
	if err != nil {
		return nil, err
	}
	var items []T
	var next string
	err = s.read(c, refs, func(ctx context.Context, r projections.Reader, now time.Time) (err error) {
		items, next, err = fn(ctx, r, now, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return listOf(items, next), nil
}

// MaxLimit is the largest page a list returns.
const MaxLimit = 200

// pageOf reads ?limit= and ?cursor= for a list sorted by keyParts values.
func pageOf(c *gin.Context, keyParts int) (projections.Page, error) {
	p := projections.Page{Limit: 50}
	var v domain.Validation
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			v.Add("limit", "must be a whole number from 1 to "+strconv.Itoa(MaxLimit))
		} else {
			p.Limit = n
		}
	}
	after, err := projections.DecodeCursor(c.Query("cursor"), keyParts)
	if err != nil {
		v.Add("cursor", "is not a cursor this service returned")
	}
	p.After = after
	return p, v.Err()
}

// list is the shape of every list answer.
type list[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func listOf[T any](items []T, next string) list[T] {
	l := list[T]{Items: items}
	if next != "" {
		l.NextCursor = &next
	}
	return l
}
