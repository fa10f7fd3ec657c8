package awsx

import (
	"errors"

	"github.com/aws/smithy-go"
)

// ErrAccessDenied marks a call the caller's IAM permissions do not allow.
// The adapters wrap it in errors that name the missing action.
var ErrAccessDenied = errors.New("access denied")

// deniedCodes are the error codes AWS uses for a missing permission.
var deniedCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
}

// ErrorCode is the AWS error code err carries ("NoSuchEntity",
// "Throttling"), or "" when err is not an AWS API error.
func ErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// IsDenied reports whether err is AWS refusing the caller's permissions
// (AccessDenied, AccessDeniedException, UnauthorizedOperation), or wraps
// ErrAccessDenied.
func IsDenied(err error) bool {
	return errors.Is(err, ErrAccessDenied) || deniedCodes[ErrorCode(err)]
}

// IsNoSuchEntity tells IAM's NoSuchEntity error, typed or (from an XML
// layout the SDK does not map, see LenientErrors) generic.
func IsNoSuchEntity(err error) bool { return ErrorCode(err) == "NoSuchEntity" }
