package awsx

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// maxErrorBody bounds how much of an error response is kept.
const maxErrorBody = 64 << 10

// errorCodeCapture reads the error code of a failed query-protocol response
// leniently. The SDK understands only <ErrorResponse><Error>; some
// STS-compatible endpoints (moto among them) wrap it as
// <ErrorResponse><Errors><Error>, which the SDK reports as "UnknownError".
type errorCodeCapture struct {
	code, message string
	// cut: the error answer's body was empty or the connection dropped
	// while it was read (see cutAnswer).
	cut bool
}

// register puts the capture next to the transport, where the response body
// is still unread.
func (c *errorCodeCapture) register(stack *middleware.Stack) error {
	return stack.Deserialize.Insert(middleware.DeserializeMiddlewareFunc("KeywardenErrorCode",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			resp, ok := out.RawResponse.(*smithyhttp.Response)
			if err != nil || !ok || resp.StatusCode < 300 || resp.Body == nil {
				return out, md, err
			}
			body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			if readErr == nil {
				c.code, c.message = parseErrorCode(body)
			}
			return out, md, err
		}), "OperationDeserializer", middleware.After)
}

// parseErrorCode returns the first <Code> and <Message> in an XML error
// document, whatever elements wrap them.
func parseErrorCode(body []byte) (code, message string) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	for code == "" || message == "" {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		start, ok := tok.(xml.StartElement)
		if !ok || (start.Name.Local != "Code" && start.Name.Local != "Message") {
			continue
		}
		var text string
		if dec.DecodeElement(&text, &start) != nil {
			break
		}
		if start.Name.Local == "Code" && code == "" {
			code = text
		} else if start.Name.Local == "Message" && message == "" {
			message = text
		}
	}
	return code, message
}
