package awsx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// lenientErrKey carries one call's captured error code between the two
// middlewares of LenientErrors.
type lenientErrKey struct{}

// LenientErrors, an APIOptions entry, makes a query-protocol client see the error code of
// responses the SDK cannot read (moto's <ErrorResponse><Errors><Error>
// layout, see errorCodeCapture): an "UnknownError" becomes a
// smithy.GenericAPIError with the real code, so AccessDenied is recognised
// and throttling is retried. A JSON-protocol client given such an XML body
// (moto's answer to a denied JSON call) fails to decode it at all; that
// failure is replaced the same way. The outer middleware owns the per-call
// state, so one client may serve concurrent calls.
func LenientErrors(stack *middleware.Stack) error {
	outer := middleware.DeserializeMiddlewareFunc("KeywardenLenientErrors",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			c := &errorCodeCapture{}
			ctx = middleware.WithStackValue(ctx, lenientErrKey{}, c)
			out, md, err := next.HandleDeserialize(ctx, in)
			var apiErr smithy.APIError
			if err != nil && c.code != "" && (!errors.As(err, &apiErr) || apiErr.ErrorCode() == "UnknownError") {
				err = &smithy.GenericAPIError{Code: c.code, Message: c.message, Fault: smithy.FaultClient}
			}
			if err != nil && c.cut && c.code == "" {
				err = &cutAnswer{err}
			}
			return out, md, err
		})
	inner := middleware.DeserializeMiddlewareFunc("KeywardenLenientErrorsBody",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			c, _ := middleware.GetStackValue(ctx, lenientErrKey{}).(*errorCodeCapture)
			resp, ok := out.RawResponse.(*smithyhttp.Response)
			if c == nil || err != nil || !ok || resp.StatusCode < 300 || resp.Body == nil {
				return out, md, err
			}
			body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			if readErr == nil {
				c.code, c.message = parseErrorCode(body)
			}
			c.cut = resp.StatusCode >= 400 && (resp.Request == nil || resp.Request.Method != http.MethodHead) && (readErr != nil || len(bytes.TrimSpace(body)) == 0)
			return out, md, err
		})
	if _, ok := stack.Deserialize.Get(outer.ID()); ok {
		return nil // already there: Load puts it in every client, IAM and STS too
	}
	if err := stack.Deserialize.Add(outer, middleware.Before); err != nil {
		return err
	}
	return stack.Deserialize.Insert(inner, "OperationDeserializer", middleware.After)
}

// cutAnswer is an error answer without its body: AWS always says why it
// refuses a call (only a HEAD's answer has no body), so an empty body is
// one the connection lost — seen on loaded loopback runs as a 404 the SDK
// could only call "UnknownError". It is retried as a dropped connection is;
// a create retried after an answer was lost may meet "already exists",
// which the engines adopt for their own creates.
type cutAnswer struct{ err error }

func (e *cutAnswer) Error() string        { return e.err.Error() }
func (e *cutAnswer) Unwrap() error        { return e.err }
func (e *cutAnswer) RetryableError() bool { return true }
