package projections

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"partners/domain"
)

// Queries of the team's read models. Lists are sorted on keys that hold no
// personal data (times, ids), so cursors, which end up in URLs and logs,
// hold none either.

// errBadCursor is the answer to a cursor whose parts do not have the shape
// this service gives them.
func errBadCursor() error { return domain.Invalid("cursor", "is not a cursor this service returned") }

// cursorTime reads a time part of a decoded cursor; ok is false for the
// first page.
func cursorTime(key []any, i int) (time.Time, bool, error) {
	if key == nil {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, str(key, i))
	if err != nil {
		return time.Time{}, false, errBadCursor()
	}
	return t, true, nil
}

// timedRow points into one row's view at its place in a list sorted by an
// instant and an id, and at the other times it shows (nil: absent).
type timedRow struct {
	id    uuid.UUID
	at    *time.Time
	times []*time.Time
}

// timeList collects a list sorted by an instant and an id, either way, and
// cuts its page: scan reads one row into its view and points at its
// times, which are given in UTC; the page's cursor is its last row's
// instant and id.
func timeList[V any](rows pgx.Rows, limit int, scan func(pgx.CollectableRow, *V) (timedRow, error)) ([]V, string, error) {
	var cursors []string // one a row, in the rows' order
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (V, error) {
		var v V
		t, err := scan(row, &v)
		if err != nil {
			return v, err
		}
		utc(t.at)
		for _, at := range t.times {
			if at != nil {
				utc(at)
			}
		}
		cursors = append(cursors, EncodeCursor(t.at.Format(time.RFC3339Nano), t.id.String()))
		return v, nil
	})
	if err != nil {
		return nil, "", err
	}
	return pageOf(items, limit, func(V) string { return cursors[limit-1] })
}

// TeamInvitationView is a colleague's invitation as the organization's
// list shows it.
type TeamInvitationView struct {
	ID         uuid.UUID  `json:"id"`
	Email      string     `json:"email"`
	Role       string     `json:"role"`
	Status     string     `json:"status"`
	InvitedBy  string     `json:"invited_by"`
	SentAt     time.Time  `json:"sent_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AnsweredAt *time.Time `json:"answered_at"`
	AcceptedBy *string    `json:"accepted_by"`
}

// MemberInvitations lists an organization's colleague invitations, newest
// first, optionally of one status (sent, accepted, revoked, expired).
func (r Reader) MemberInvitations(ctx context.Context, org uuid.UUID, status string, now time.Time, p Page) ([]TeamInvitationView, string, error) {
	after, paged, err := cursorTime(p.After, 0)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.Q.Query(ctx, `
		SELECT id, email, role, status, invited_by, sent_at, expires_at, answered_at, accepted_by
		  FROM rm_team_invitations i
		 WHERE organization_id = $1 AND kind = 'member' AND `+invitationStatuses.filter("i")+`
		   AND (NOT $4::boolean OR (sent_at, id::text) < ($5::timestamptz, $6::text))
		 ORDER BY sent_at DESC, id::text DESC LIMIT $7`,
		org, status, now, paged, after, str(p.After, 1), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	return invitationList(rows, invitationStatuses, now, p.Limit, func(row pgx.CollectableRow, v *TeamInvitationView) (listedInvitation, error) {
		err := row.Scan(&v.ID, &v.Email, &v.Role, &v.Status, &v.InvitedBy, &v.SentAt, &v.ExpiresAt, &v.AnsweredAt, &v.AcceptedBy)
		return listedInvitation{id: v.ID, status: &v.Status, sentAt: &v.SentAt, expiresAt: &v.ExpiresAt, answeredAt: v.AnsweredAt}, err
	})
}

// AccountantView is one accountant access: granted (a member with the
// accountant role) or pending (an invitation waiting for its answer).
type AccountantView struct {
	Status       string     `json:"status"`
	UserID       *string    `json:"user_id"`
	Email        string     `json:"email"`
	Name         *string    `json:"name"`
	InvitationID *uuid.UUID `json:"invitation_id"`
	Since        *time.Time `json:"since"`
	SentAt       *time.Time `json:"sent_at"`
	ExpiresAt    *time.Time `json:"expires_at"`
}

// Accountants lists an organization's accountant access: granted first, by
// the date it was granted, then the pending invitations, oldest first.
func (r Reader) Accountants(ctx context.Context, org uuid.UUID, now time.Time, p Page) ([]AccountantView, string, error) {
	after, paged, err := cursorTime(p.After, 1)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.Q.Query(ctx, `
		SELECT rank, at, key, status, user_id, email, name, invitation_id, since, sent_at, expires_at FROM (
			SELECT '0' AS rank, since AS at, user_id AS key, 'granted' AS status, user_id, email, name, invitation_id,
			       since, NULL::timestamptz AS sent_at, NULL::timestamptz AS expires_at
			  FROM rm_members WHERE organization_id = $1 AND role = 'accountant'
			UNION ALL
			SELECT '1', sent_at, id::text, 'pending', NULL, email, NULL, id, NULL, sent_at, expires_at
			  FROM rm_team_invitations
			 WHERE organization_id = $1 AND kind = 'accountant' AND status = `+sqlWord(domain.StatusSent)+` AND expires_at > $2) x
		 WHERE NOT $3::boolean OR (rank, at, key) > ($4::text, $5::timestamptz, $6::text)
		 ORDER BY rank, at, key LIMIT $7`,
		org, now, paged, str(p.After, 0), after, str(p.After, 2), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	type row struct {
		rank string
		at   time.Time
		key  string
		v    AccountantView
	}
	items, err := pgx.CollectRows(rows, func(cr pgx.CollectableRow) (row, error) {
		var x row
		v := &x.v
		if err := cr.Scan(&x.rank, &x.at, &x.key, &v.Status, &v.UserID, &v.Email, &v.Name, &v.InvitationID, &v.Since, &v.SentAt, &v.ExpiresAt); err != nil {
			return x, err
		}
		for _, t := range []*time.Time{v.Since, v.SentAt, v.ExpiresAt} {
			if t != nil {
				utc(t)
			}
		}
		return x, nil
	})
	if err != nil {
		return nil, "", err
	}
	page, next, err := pageOf(items, p.Limit, func(x row) string {
		return EncodeCursor(x.rank, x.at.UTC().Format(time.RFC3339Nano), x.key)
	})
	out := make([]AccountantView, len(page))
	for i, x := range page {
		out[i] = x.v
	}
	return out, next, err
}

// AccountantClientView is an organization an accountant serves.
type AccountantClientView struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	Name           string    `json:"name"`
	Side           string    `json:"side"`
	Siret          *string   `json:"siret"`
	Since          time.Time `json:"since"`
}

// AccountantClients lists the organizations a user serves as accountant,
// by name.
func (r Reader) AccountantClients(ctx context.Context, userID string, p Page) ([]AccountantClientView, string, error) {
	rows, err := r.Q.Query(ctx, `
		SELECT o.id, o.name, o.side, o.siret, m.since FROM rm_members m JOIN rm_organizations o ON o.id = m.organization_id
		 WHERE m.user_id = $1 AND m.role = 'accountant' AND ($2 = '' OR (o.name, o.id::text) > ($2, $3))
		 ORDER BY o.name, o.id::text LIMIT $4`, userID, str(p.After, 0), str(p.After, 1), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[AccountantClientView])
	if err != nil {
		return nil, "", err
	}
	for i := range items {
		utc(&items[i].Since)
	}
	return pageOf(items, p.Limit, func(v AccountantClientView) string { return EncodeCursor(v.Name, v.OrganizationID.String()) })
}

// CollaboratorView is one collaborator attached to an organization, with
// the profile typed when the account was created (null for someone
// attached at their own request).
type CollaboratorView struct {
	UserID          string    `json:"user_id"`
	Email           string    `json:"email"`
	Name            string    `json:"name"`
	FirstName       *string   `json:"first_name"`
	LastName        *string   `json:"last_name"`
	Phone           *string   `json:"phone"`
	CanPurchase     bool      `json:"can_purchase"`
	CanSeeAllOrders bool      `json:"can_see_all_orders"`
	Via             string    `json:"via"`
	Since           time.Time `json:"since"`
}

// Collaborators lists an organization's collaborators, by user id.
func (r Reader) Collaborators(ctx context.Context, org uuid.UUID, p Page) ([]CollaboratorView, string, error) {
	rows, err := r.Q.Query(ctx, `
		SELECT m.user_id, m.email, m.name, ci.first_name, ci.last_name, ci.phone, m.can_purchase, m.can_see_all_orders,
		       m.joined_via, m.since
		  FROM rm_members m
		  LEFT JOIN rm_collaborator_invitations ci ON ci.id = m.invitation_id AND m.joined_via = $4
		 WHERE m.organization_id = $1 AND m.role = 'collaborator' AND m.user_id > $2
		 ORDER BY m.user_id LIMIT $3`, org, str(p.After, 0), p.Limit+1, domain.ViaCollaboratorInvite)
	if err != nil {
		return nil, "", err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CollaboratorView])
	if err != nil {
		return nil, "", err
	}
	for i := range items {
		utc(&items[i].Since)
	}
	return pageOf(items, p.Limit, func(v CollaboratorView) string { return EncodeCursor(v.UserID) })
}

// reachedRequests lists, as "listed", the collaboration requests an
// organization ($1) sees: those its SIRET or one of its owners' verified
// emails reaches now, and those it answered. Among a requester's requests
// only the newest may show as pending (asking again after an answer
// elsewhere must not make two), and none once the requester is a member.
const reachedRequests = `
	WITH reached AS (
		SELECT id FROM rm_collaboration_requests
		 WHERE target_siret = (SELECT siret FROM rm_collaboration_organizations WHERE organization_id = $1)
		UNION
		SELECT id FROM rm_collaboration_requests
		 WHERE target_ref IN (SELECT email_ref FROM rm_collaboration_members
		                       WHERE organization_id = $1 AND role = 'owner' AND verified)
		UNION
		SELECT request_id FROM rm_collaboration_answers WHERE organization_id = $1
	), all_requests AS (
		SELECT r.id, r.requester_id, r.requester_email, r.requester_name,
		       CASE WHEN r.target_siret IS NOT NULL THEN 'siret' ELSE 'email' END AS matched_by,
		       coalesce(a.status, 'pending') AS status, r.requested_at, a.answered_at, a.can_purchase, a.can_see_all_orders,
		       row_number() OVER (PARTITION BY r.requester_id ORDER BY r.requested_at DESC, r.id DESC) AS newest
		  FROM reached JOIN rm_collaboration_requests r ON r.id = reached.id
		  LEFT JOIN rm_collaboration_answers a ON a.request_id = r.id AND a.organization_id = $1
	), listed AS (
		SELECT * FROM all_requests l
		 WHERE l.status <> 'pending' OR (l.newest = 1 AND NOT EXISTS (
		       SELECT 1 FROM rm_collaboration_members m
		        WHERE m.organization_id = $1 AND m.user_id = l.requester_id AND m.role <> ''))
	)`

// CollaborationRequestView is a request to be attached, as the
// organization it reached sees it.
type CollaborationRequestView struct {
	ID        uuid.UUID `json:"id"`
	Requester struct {
		UserID string `json:"user_id"`
		Email  string `json:"email"`
		Name   string `json:"name"`
	} `json:"requester"`
	// MatchedBy says how the request reached the organization: "siret" or
	// "email" (an owner's).
	MatchedBy       string     `json:"matched_by"`
	Status          string     `json:"status"`
	RequestedAt     time.Time  `json:"requested_at"`
	AnsweredAt      *time.Time `json:"answered_at"`
	CanPurchase     *bool      `json:"can_purchase"`
	CanSeeAllOrders *bool      `json:"can_see_all_orders"`
}

// CollaborationRequests lists the requests an organization received, of
// one status (pending, approved or rejected), oldest first.
func (r Reader) CollaborationRequests(ctx context.Context, org uuid.UUID, status string, p Page) ([]CollaborationRequestView, string, error) {
	after, paged, err := cursorTime(p.After, 0)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.Q.Query(ctx, reachedRequests+`
		SELECT id, requester_id, requester_email, requester_name, matched_by, status, requested_at, answered_at,
		       can_purchase, can_see_all_orders
		  FROM listed
		 WHERE status = $2 AND (NOT $3::boolean OR (requested_at, id::text) > ($4::timestamptz, $5::text))
		 ORDER BY requested_at, id::text LIMIT $6`, org, status, paged, after, str(p.After, 1), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	return timeList(rows, p.Limit, func(row pgx.CollectableRow, v *CollaborationRequestView) (timedRow, error) {
		if err := row.Scan(&v.ID, &v.Requester.UserID, &v.Requester.Email, &v.Requester.Name, &v.MatchedBy, &v.Status,
			&v.RequestedAt, &v.AnsweredAt, &v.CanPurchase, &v.CanSeeAllOrders); err != nil {
			return timedRow{}, err
		}
		if v.Status != domain.StatusApproved {
			v.CanPurchase, v.CanSeeAllOrders = nil, nil
		}
		return timedRow{id: v.ID, at: &v.RequestedAt, times: []*time.Time{v.AnsweredAt}}, nil
	})
}

// PendingCollaborationRequests is the badge: how many collaboration
// requests wait for the organization's answer.
func (r Reader) PendingCollaborationRequests(ctx context.Context, org uuid.UUID) (int, error) {
	rows, err := r.Q.Query(ctx, reachedRequests+`SELECT count(*) FROM listed WHERE status = 'pending'`, org)
	if err != nil {
		return 0, err
	}
	return pgx.CollectExactlyOneRow(rows, pgx.RowTo[int])
}

// CollaboratorInvitationView is a collaborator account as the
// organization's list of accounts created shows it, activated or not.
type CollaboratorInvitationView struct {
	ID              uuid.UUID `json:"id"`
	FirstName       string    `json:"first_name"`
	LastName        string    `json:"last_name"`
	Email           string    `json:"email"`
	Phone           string    `json:"phone"`
	CanPurchase     bool      `json:"can_purchase"`
	CanSeeAllOrders bool      `json:"can_see_all_orders"`
	Status          string    `json:"status"`
	SentAt          time.Time `json:"sent_at"`
	ExpiresAt       time.Time `json:"expires_at"`
}

// CollaboratorInvitations lists the collaborator accounts an organization
// created, the last sent first, optionally of one status (invited,
// activated, revoked, expired; expired is derived from the expiry).
func (r Reader) CollaboratorInvitations(ctx context.Context, org uuid.UUID, status string, now time.Time, p Page) ([]CollaboratorInvitationView, string, error) {
	after, paged, err := cursorTime(p.After, 0)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.Q.Query(ctx, `
		SELECT id, first_name, last_name, email, phone, can_purchase, can_see_all_orders, status, invited_at, expires_at
		  FROM rm_collaborator_invitations i
		 WHERE organization_id = $1 AND `+collaboratorStatuses.filter("i")+`
		   AND (NOT $4::boolean OR (invited_at, id::text) < ($5::timestamptz, $6::text))
		 ORDER BY invited_at DESC, id::text DESC LIMIT $7`,
		org, status, now, paged, after, str(p.After, 1), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	return invitationList(rows, collaboratorStatuses, now, p.Limit, func(row pgx.CollectableRow, v *CollaboratorInvitationView) (listedInvitation, error) {
		err := row.Scan(&v.ID, &v.FirstName, &v.LastName, &v.Email, &v.Phone, &v.CanPurchase, &v.CanSeeAllOrders, &v.Status,
			&v.SentAt, &v.ExpiresAt)
		return listedInvitation{id: v.ID, status: &v.Status, sentAt: &v.SentAt, expiresAt: &v.ExpiresAt}, err
	})
}

// OwnCollaborationRequestView is a collaboration request as the person who
// sent it follows it. It says nothing of which organizations the request
// reached: one that matched nobody reads exactly like one no organization
// answered yet.
type OwnCollaborationRequestView struct {
	ID          uuid.UUID  `json:"id"`
	TargetSiret *string    `json:"-"`
	ByEmail     bool       `json:"-"`
	Status      string     `json:"status"`
	RequestedAt time.Time  `json:"requested_at"`
	AnsweredAt  *time.Time `json:"answered_at"`
	// Organization is the organization that approved it, once one did.
	Organization *OrganizationRef `json:"organization"`
}

// OrganizationRef names an organization.
type OrganizationRef struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// OwnCollaborationRequests lists the requests a user sent, newest first.
// A request is approved once an organization it reached approved it (the
// requester is then attached), else rejected once one rejected it (the
// requester may ask again), else pending.
func (r Reader) OwnCollaborationRequests(ctx context.Context, userID string, p Page) ([]OwnCollaborationRequestView, string, error) {
	after, paged, err := cursorTime(p.After, 0)
	if err != nil {
		return nil, "", err
	}
	rows, err := r.Q.Query(ctx, `
		SELECT r.id, r.target_siret, r.target_ref IS NOT NULL, r.requested_at,
		       CASE WHEN ap.organization_id IS NOT NULL THEN 'approved' WHEN rj.answered_at IS NOT NULL THEN 'rejected' ELSE 'pending' END,
		       coalesce(ap.answered_at, rj.answered_at), ap.organization_id, o.name
		  FROM rm_collaboration_requests r
		  LEFT JOIN LATERAL (SELECT organization_id, answered_at FROM rm_collaboration_answers
		                      WHERE request_id = r.id AND status = 'approved' ORDER BY answered_at, organization_id LIMIT 1) ap ON true
		  LEFT JOIN LATERAL (SELECT answered_at FROM rm_collaboration_answers
		                      WHERE request_id = r.id AND status = 'rejected' ORDER BY answered_at LIMIT 1) rj ON true
		  LEFT JOIN rm_organizations o ON o.id = ap.organization_id
		 WHERE r.requester_id = $1 AND (NOT $2::boolean OR (r.requested_at, r.id::text) < ($3::timestamptz, $4::text))
		 ORDER BY r.requested_at DESC, r.id::text DESC LIMIT $5`,
		userID, paged, after, str(p.After, 1), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	return timeList(rows, p.Limit, func(row pgx.CollectableRow, v *OwnCollaborationRequestView) (timedRow, error) {
		var org *uuid.UUID
		var name *string
		if err := row.Scan(&v.ID, &v.TargetSiret, &v.ByEmail, &v.RequestedAt, &v.Status, &v.AnsweredAt, &org, &name); err != nil {
			return timedRow{}, err
		}
		if org != nil {
			v.Organization = &OrganizationRef{ID: *org, Name: deref(name)}
		}
		return timedRow{id: v.ID, at: &v.RequestedAt, times: []*time.Time{v.AnsweredAt}}, nil
	})
}
