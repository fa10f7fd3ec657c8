package awsx

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
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

// sdkLayers is where the SDK's text starts in an error a caller wrapped:
// "operation error IAM: ListUsers, get identity: get credentials: ...".
const sdkLayers = "operation error "

// Plain is err without the SDK's layers when they say nothing the cause
// does not: for no credentials, a missing profile, an endpoint that cannot
// be reached or one that answers in a foreign form, the caller's context and
// the cause alone ("identify
// K: iam:GetAccessKeyLastUsed: no AWS credentials found: ..."); for an
// error the service answered, the caller's context, its code and its
// message ("lambda:ListFunctions: SignatureDoesNotMatch: The request
// signature we calculated ..."), without the operation, HTTP status and
// request id between them. Any other error is returned as it is.
// errors.As still finds everything err wraps.
func Plain(err error) error {
	if f, ok := foreign(err); ok {
		return shorten(err, f.Error(), true)
	}
	if api, ok := serviceAnswer(err); ok {
		return shorten(err, api, true)
	}
	var noCreds *NoCredentialsError
	var noProfile *ProfileNotFoundError
	var noConn *ConnectError
	var cause error
	switch {
	case errors.As(err, &noCreds):
		cause = noCreds
	case errors.As(err, &noProfile):
		cause = noProfile
	case errors.As(err, &noConn):
		cause = noConn
	default:
		return err
	}
	return shorten(err, cause.Error(), false)
}

// serviceAnswer is "CODE: message" of an error the service answered, inside
// the SDK's operation error.
func serviceAnswer(err error) (string, bool) {
	var op *smithy.OperationError
	var api smithy.APIError
	if !errors.As(err, &op) || !errors.As(err, &api) || api.ErrorCode() == "" {
		return "", false
	}
	if msg := api.ErrorMessage(); msg != "" {
		return api.ErrorCode() + ": " + msg, true
	}
	return api.ErrorCode(), true
}

// shorten cuts err's text at the SDK's layers and puts tail there. Unless
// replace, tail must be how the text ends (the cause the layers wrap).
func shorten(err error, tail string, replace bool) error {
	text := err.Error()
	i := strings.Index(text, sdkLayers)
	if i < 0 || (!replace && !strings.HasSuffix(text, tail)) {
		return err
	}
	return &plainError{text: text[:i] + tail, err: err}
}

// plainError is err with a shorter text.
type plainError struct {
	text string
	err  error
}

func (p *plainError) Error() string { return p.text }
func (p *plainError) Unwrap() error { return p.err }

// ForeignAnswerError is an endpoint answering in a form that is not the
// service's protocol (an HTML error page, another service's format): most
// often the service is not served there (a local emulator without it, a
// proxy's page). Retrying it does not help.
type ForeignAnswerError struct {
	Service string
	Status  int
}

func (e *ForeignAnswerError) Error() string {
	return fmt.Sprintf("the endpoint answered HTTP %d in a form that is not %s's (is %s served there?)", e.Status, e.Service, e.Service)
}

// IsForeignAnswer reports whether err is an answer the SDK could not read
// as the service's (see ForeignAnswerError).
func IsForeignAnswer(err error) bool {
	_, ok := foreign(err)
	return ok
}

// foreign finds, in an SDK error, an error answer that failed to
// deserialize. A body cut off by the network (a closed connection, an
// unexpected EOF) is not foreign: the SDK retries it, and so must we; nor is
// a success whose body could not be read.
func foreign(err error) (*ForeignAnswerError, bool) {
	var deser *smithy.DeserializationError
	var resp *smithyhttp.ResponseError
	if !errors.As(err, &deser) || !errors.As(err, &resp) || resp.HTTPStatusCode() < 300 {
		return nil, false
	}
	var netErr net.Error
	if errors.As(deser.Err, &netErr) || errors.Is(deser.Err, net.ErrClosed) || errors.Is(deser.Err, io.ErrUnexpectedEOF) {
		return nil, false
	}
	f := &ForeignAnswerError{Status: resp.HTTPStatusCode(), Service: "the service"}
	var op *smithy.OperationError
	if errors.As(err, &op) {
		f.Service = op.ServiceID
	}
	return f, true
}
