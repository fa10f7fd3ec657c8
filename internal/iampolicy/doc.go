// Package iampolicy reads IAM policy documents and answers the questions the
// audit and respond verbs ask about a key holder: is it admin-equivalent,
// which high-blast-radius actions can it perform, and which foreign accounts
// may assume a role without an sts:ExternalId.
//
// It is a pure engine: no AWS SDK, no network, no disk. Callers (the audit
// reader) fill a PolicySet and a Catalog from GetAccountAuthorizationDetails
// and pass them to Resolve.
//
// This is deliberately not a full IAM evaluator. The choices, in order of how
// often they matter:
//
//   - Conditions are kept as data and never evaluated. An Allow with a
//     Condition still counts as granting, marked Conditional, so a report can
//     say "admin (conditional)". A Deny with a Condition never cancels
//     anything; it only marks the result Conditional (the common
//     "deny everything unless MFA" statement makes admin conditional on MFA).
//   - Only Deny statements that are unconditional and cover the granting
//     statement's resources cancel a grant. A Deny scoped to a few resources
//     leaves the principal admin over everything else.
//   - Admin-equivalent means: an Allow grants every action on every resource
//     ("*" or "*:*" on "*"), within the permissions boundary when one is set,
//     and the principal can still grant itself the rest (iam:PutUserPolicy or
//     iam:AttachUserPolicy survive). So "Allow * / Deny s3:*" is admin, and
//     "Allow NotAction s3:DeleteBucket on *" is admin. "Allow NotAction iam:*"
//     (AWS's PowerUserAccess shape) or "Allow * / Deny iam:*" cannot escalate
//     and is reported as Broad instead: every action except a short list.
//     An Allow of everything with NotResource is Broad, never admin, because
//     we cannot tell whether the excluded resources include the holder.
//   - arn:aws:iam::aws:policy/AdministratorAccess (in any partition) is known
//     without its document. Any other managed policy or boundary whose
//     document is not in the Catalog is listed in Effective.Missing; an unknown
//     boundary is treated as not restricting (over-reporting beats hiding).
//   - A Statement with neither Resource nor NotResource matches no resource
//     in identity policies (IAM rejects such documents anyway).
//   - Action and condition-key matching is case-insensitive, resource matching
//     case-sensitive, as in IAM. Boundaries are intersected per action, not
//     per resource.
package iampolicy
