package awsx

import "testing"

func TestParseErrorCodeReadsBothLayouts(t *testing.T) {
	tests := []struct {
		name, body, code, message string
	}{
		{"aws query layout", `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>bad</Message></Error></ErrorResponse>`, "InvalidClientTokenId", "bad"},
		{"errors wrapper", `<?xml version="1.0"?><ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>sig</Message></Error></Errors></ErrorResponse>`, "SignatureDoesNotMatch", "sig"},
		{"not xml", `{"__type":"x"}`, "", ""},
		{"truncated", `<ErrorResponse><Error><Code>Thrott`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := parseErrorCode([]byte(tt.body))
			if code != tt.code || msg != tt.message {
				t.Errorf("parseErrorCode = %q, %q; want %q, %q", code, msg, tt.code, tt.message)
			}
		})
	}
}

func FuzzParseErrorCode(f *testing.F) {
	f.Add([]byte(`<ErrorResponse><Error><Code>A</Code><Message>B</Message></Error></ErrorResponse>`))
	f.Add([]byte(`<a><Code><Code>x</Code></Code></a>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		parseErrorCode(body) // must return, not panic or hang
	})
}
