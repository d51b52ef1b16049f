package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"partners/domain"
)

// PartnerRef names the organization an invitation led to.
type PartnerRef struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// SentInvitationView is a row of "Invitations sent".
type SentInvitationView struct {
	ID         uuid.UUID   `json:"id"`
	Email      string      `json:"email"`
	Status     string      `json:"status"`
	Message    string      `json:"message"`
	SentAt     time.Time   `json:"sent_at"`
	ExpiresAt  time.Time   `json:"expires_at"`
	AnsweredAt *time.Time  `json:"answered_at"`
	Partner    *PartnerRef `json:"partner"`
	// ClaimedBy is the organization that claimed the invitation with its
	// link, so that a link that reached the wrong hands can be revoked.
	ClaimedBy *PartnerRef `json:"claimed_by"`
	// Contact is the partner's contact details typed on the invite form,
	// null when none were.
	Contact *ContactView `json:"contact"`
}

// ContactView is the partner's contact details of an invitation; a part
// not given is null.
type ContactView struct {
	Name    *string `json:"name"`
	Company *string `json:"company"`
	Phone   *string `json:"phone"`
}

// contactOf is the contact of a row, nil when it has none.
func contactOf(ref string, name, company, phone *string) *ContactView {
	if ref == "" {
		return nil
	}
	return &ContactView{Name: nonEmpty(name), Company: nonEmpty(company), Phone: nonEmpty(phone)}
}

func nonEmpty(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}

// =============================================================================
// Lists of token invitations

// statuses are a kind of invitation's words for one waiting for its answer
// and for one past its expiry: the read models store the waiting word, and
// the clock, not an event, makes it expired (domain's StatusAt).
type statuses struct{ waiting, expired fmt.Stringer }

var (
	// invitationStatuses are the partner, colleague and accountant
	// invitations' words.
	invitationStatuses = statuses{domain.StatusSent, domain.StatusExpired}
	// collaboratorStatuses are the collaborator accounts' words.
	collaboratorStatuses = statuses{domain.StatusInvited, domain.StatusActivationExpired}
)

// sqlWord is a status's word as an SQL literal (a domain constant, never
// input).
func sqlWord(status fmt.Stringer) string { return "'" + status.String() + "'" }

// filter turns a status ($2) into SQL on a table with status and
// expires_at, at the instant $3: waiting and expired are told apart by the
// clock.
func (k statuses) filter(alias string) string {
	return strings.NewReplacer("{t}", alias, "{waiting}", sqlWord(k.waiting), "{expired}", sqlWord(k.expired)).Replace(
		`($2 = '' OR ($2 = {expired} AND {t}.status = {waiting} AND {t}.expires_at <= $3)
		OR ($2 = {waiting} AND {t}.status = {waiting} AND {t}.expires_at > $3)
		OR ($2 NOT IN ({waiting}, {expired}) AND {t}.status = $2))`)
}

// listedInvitation points into one row's view at what every list of token
// invitations reads alike.
type listedInvitation struct {
	id uuid.UUID
	// status is nil in a list of waiting invitations only.
	status            *string
	sentAt, expiresAt *time.Time
	// answeredAt is nil when unanswered, or not shown.
	answeredAt *time.Time
}

// invitationList collects a list of token invitations sorted by their
// sending and cuts its page (timeList). scan reads one row into its view
// and points at the shared parts: a waiting invitation past its expiry
// reads as expired.
func invitationList[V any](rows pgx.Rows, k statuses, now time.Time, limit int,
	scan func(pgx.CollectableRow, *V) (listedInvitation, error)) ([]V, string, error) {
	return timeList(rows, limit, func(row pgx.CollectableRow, v *V) (timedRow, error) {
		l, err := scan(row, v)
		if err != nil {
			return timedRow{}, err
		}
		if l.status != nil && *l.status == k.waiting.String() && !now.Before(*l.expiresAt) {
			*l.status = k.expired.String()
		}
		return timedRow{id: l.id, at: l.sentAt, times: []*time.Time{l.expiresAt, l.answeredAt}}, nil
	})
}

// SentInvitations lists an organization's sent invitations, newest first,
// optionally of one status.
func (r Reader) SentInvitations(ctx context.Context, org uuid.UUID, status string, now time.Time, p Page) ([]SentInvitationView, string, error) {
	rows, err := r.Q.Query(ctx, `
		SELECT id, email, status, message, sent_at, expires_at, answered_at, partner_id, partner_name, claimed_by_id, claimed_by_name,
		       contact_ref, contact_name, contact_company, contact_phone
		  FROM rm_invitations_sent i
		 WHERE organization_id = $1 AND `+invitationStatuses.filter("i")+`
		   AND ($4 = '' OR (sent_at, id::text) < ($4::timestamptz, $5))
		 ORDER BY sent_at DESC, id::text DESC LIMIT $6`,
		org, status, now, str(p.After, 0), str(p.After, 1), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	return invitationList(rows, invitationStatuses, now, p.Limit, func(row pgx.CollectableRow, v *SentInvitationView) (listedInvitation, error) {
		var pid, cid *uuid.UUID
		var pname, cname, contactName, contactCompany, contactPhone *string
		var contactRef string
		if err := row.Scan(&v.ID, &v.Email, &v.Status, &v.Message, &v.SentAt, &v.ExpiresAt, &v.AnsweredAt, &pid, &pname, &cid, &cname,
			&contactRef, &contactName, &contactCompany, &contactPhone); err != nil {
			return listedInvitation{}, err
		}
		v.Contact = contactOf(contactRef, contactName, contactCompany, contactPhone)
		if cid != nil {
			v.ClaimedBy = &PartnerRef{ID: *cid, Name: deref(cname)}
		}
		if pid != nil {
			v.Partner = &PartnerRef{ID: *pid, Name: deref(pname)}
		}
		return listedInvitation{id: v.ID, status: &v.Status, sentAt: &v.SentAt, expiresAt: &v.ExpiresAt, answeredAt: v.AnsweredAt}, nil
	})
}

// InviterRef is who sent an invitation.
type InviterRef struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	Side string    `json:"side"`
}

// ReceivedInvitationView is a row of "My invitations".
type ReceivedInvitationView struct {
	ID        uuid.UUID  `json:"id"`
	Status    string     `json:"status"`
	Message   string     `json:"message"`
	SentAt    time.Time  `json:"sent_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	Inviter   InviterRef `json:"inviter"`
}

// receivedWhere selects the invitations addressed to an organization (the
// org placeholder) of a side: claimed by it, answered by it, or, until
// someone answers, sent to the verified email of one of its owners or
// admins, whoever claimed it.
func receivedWhere(org, side string) string {
	return `r.invitee_side = ` + side + ` AND r.inviter_id <> ` + org + ` AND (
		r.claimed_by = ` + org + ` OR r.answered_by = ` + org + `
		OR (r.answered_by IS NULL AND r.email_ref IN (
			SELECT email_ref FROM rm_received_addressees WHERE organization_id = ` + org + ` AND active)))`
}

// ReceivedInvitations lists the invitations addressed to an organization,
// newest first, of one status (sent, pending, by default).
func (r Reader) ReceivedInvitations(ctx context.Context, org uuid.UUID, side, status string, now time.Time, p Page) ([]ReceivedInvitationView, string, error) {
	rows, err := r.Q.Query(ctx, `
		SELECT r.id, r.status, r.message, r.sent_at, r.expires_at, r.inviter_id, r.inviter_name, r.inviter_side
		  FROM rm_received_invitations r
		 WHERE `+receivedWhere("$1", "$6")+` AND `+invitationStatuses.filter("r")+`
		   AND ($4 = '' OR (r.sent_at, r.id::text) < ($4::timestamptz, $5))
		 ORDER BY r.sent_at DESC, r.id::text DESC LIMIT $7`,
		org, status, now, str(p.After, 0), str(p.After, 1), side, p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	return invitationList(rows, invitationStatuses, now, p.Limit, func(row pgx.CollectableRow, v *ReceivedInvitationView) (listedInvitation, error) {
		err := row.Scan(&v.ID, &v.Status, &v.Message, &v.SentAt, &v.ExpiresAt, &v.Inviter.ID, &v.Inviter.Name, &v.Inviter.Side)
		return listedInvitation{id: v.ID, status: &v.Status, sentAt: &v.SentAt, expiresAt: &v.ExpiresAt}, err
	})
}

// MyInvitationView is a row of the window at sign-up: a pending partner
// invitation addressed to the caller's verified email.
type MyInvitationView struct {
	ID          uuid.UUID  `json:"id"`
	Inviter     InviterRef `json:"inviter"`
	InviteeSide string     `json:"invitee_side"`
	Message     string     `json:"message"`
	SentAt      time.Time  `json:"sent_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
}

// MyInvitations lists the pending partner invitations sent to a person's
// email (their ref), newest first, whether or not they belong to any
// organization: neither expired, answered nor revoked. A claim by some
// organization does not take one away from its email.
func (r Reader) MyInvitations(ctx context.Context, ref string, now time.Time, p Page) ([]MyInvitationView, string, error) {
	rows, err := r.Q.Query(ctx, `
		SELECT r.id, r.inviter_id, r.inviter_name, r.inviter_side, r.invitee_side, r.message, r.sent_at, r.expires_at
		  FROM rm_received_invitations r
		 WHERE r.email_ref = $1 AND r.status = `+sqlWord(domain.StatusSent)+` AND r.expires_at > $2
		   AND ($3 = '' OR (r.sent_at, r.id::text) < ($3::timestamptz, $4))
		 ORDER BY r.sent_at DESC, r.id::text DESC LIMIT $5`,
		ref, now, str(p.After, 0), str(p.After, 1), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	return invitationList(rows, invitationStatuses, now, p.Limit, func(row pgx.CollectableRow, v *MyInvitationView) (listedInvitation, error) {
		err := row.Scan(&v.ID, &v.Inviter.ID, &v.Inviter.Name, &v.Inviter.Side, &v.InviteeSide, &v.Message, &v.SentAt, &v.ExpiresAt)
		return listedInvitation{id: v.ID, sentAt: &v.SentAt, expiresAt: &v.ExpiresAt}, err
	})
}

// PendingInvitations counts the pending invitations addressed to an
// organization: the red badge.
func (r Reader) PendingInvitations(ctx context.Context, org uuid.UUID, side string, now time.Time) (int, error) {
	var n int
	rows, err := r.Q.Query(ctx, `SELECT count(*) FROM rm_received_invitations r
		WHERE `+receivedWhere("$1", "$4")+` AND `+invitationStatuses.filter("r"), org, domain.StatusSent.String(), now, side)
	if err != nil {
		return 0, err
	}
	n, err = pgx.CollectExactlyOneRow(rows, pgx.RowTo[int])
	return n, err
}

// PartnerView is a row of the partner panel.
type PartnerView struct {
	OrganizationID uuid.UUID `json:"organization_id"`
	Name           string    `json:"name"`
	Side           string    `json:"side"`
	Siret          *string   `json:"siret"`
	Since          time.Time `json:"since"`
	InvitationID   uuid.UUID `json:"invitation_id"`
}

// Partners lists an organization's partners by name, optionally those whose
// name contains q (case-insensitive).
func (r Reader) Partners(ctx context.Context, org uuid.UUID, q string, p Page) ([]PartnerView, string, error) {
	rows, err := r.Q.Query(ctx, `
		SELECT partner_id, name, side, siret, since, invitation_id FROM rm_partners
		 WHERE organization_id = $1 AND ($2 = '' OR lower(name) LIKE '%' || $2 || '%' ESCAPE '\')
		   AND ($3 = '' OR (lower(name), partner_id::text) > ($3, $4))
		 ORDER BY lower(name), partner_id::text LIMIT $5`,
		org, likeEscape(strings.ToLower(strings.TrimSpace(q))), str(p.After, 0), str(p.After, 1), p.Limit+1)
	if err != nil {
		return nil, "", err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[PartnerView])
	if err != nil {
		return nil, "", err
	}
	for i := range items {
		utc(&items[i].Since)
	}
	return pageOf(items, p.Limit, func(v PartnerView) string { return EncodeCursor(strings.ToLower(v.Name), v.OrganizationID.String()) })
}

// PartnerDetailsView is the partner's details pane (seed 004's info pane
// and its Contacts tab).
type PartnerDetailsView struct {
	PartnerView
	Contacts []PartnerContactView `json:"contacts"`
}

// PartnerContactView is one of a partner's owners and admins.
type PartnerContactView struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

// PartnerDetails is what an organization sees of one of its partners: the
// panel's row and the partner's owners and admins, owners first. ok is
// false when the two are not partners.
func (r Reader) PartnerDetails(ctx context.Context, org, partner uuid.UUID) (PartnerDetailsView, bool, error) {
	rows, err := r.Q.Query(ctx, `SELECT partner_id, name, side, siret, since, invitation_id FROM rm_partners
		WHERE organization_id = $1 AND partner_id = $2`, org, partner)
	if err != nil {
		return PartnerDetailsView{}, false, err
	}
	row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[PartnerView])
	if errors.Is(err, pgx.ErrNoRows) {
		return PartnerDetailsView{}, false, nil
	}
	if err != nil {
		return PartnerDetailsView{}, false, err
	}
	utc(&row.Since)
	rows, err = r.Q.Query(ctx, `SELECT name, email, role FROM rm_members
		WHERE organization_id = $1 AND role IN ('owner', 'admin')
		ORDER BY role = 'admin', lower(name), user_id`, partner)
	if err != nil {
		return PartnerDetailsView{}, false, err
	}
	contacts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[PartnerContactView])
	if err != nil {
		return PartnerDetailsView{}, false, err
	}
	if contacts == nil {
		contacts = []PartnerContactView{}
	}
	return PartnerDetailsView{PartnerView: row, Contacts: contacts}, true, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func utc(ts ...*time.Time) {
	for _, t := range ts {
		*t = t.UTC()
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
