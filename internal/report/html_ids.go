package report

import (
	"bytes"
	"regexp"

	"golang.org/x/net/html"
)

// idPattern matches what must never break over two lines: an access key id
// and an ARN (to its last character that is not punctuation of the
// sentence around it).
var idPattern = regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\barn:[a-z0-9-]+:[A-Za-z0-9+=.@/:_*-]*[A-Za-z0-9+=@/_*-]`)

// IDClass is the class of the spans KeepIDsWhole adds; a page styles it
// white-space:nowrap.
const IDClass = "id"

// KeepIDsWhole wraps every access key id and ARN in the text of an HTML
// page in <span class="id">, which the page keeps on one line: a key id or
// an ARN broken in two can be neither copied nor searched for. Text in
// script, style, title and svg elements, and attribute values, are left
// as they are; the rest of the page is copied byte for byte.
func KeepIDsWhole(page []byte) []byte {
	z := html.NewTokenizer(bytes.NewReader(page))
	var out bytes.Buffer
	out.Grow(len(page) + len(page)/8)
	depth := 0 // inside elements whose text must stay as it is
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.Bytes() // io.EOF: the tokenizer never fails otherwise on bytes
		}
		raw := z.Raw()
		switch tt {
		case html.StartTagToken, html.EndTagToken:
			name, _ := z.TagName()
			if keepText[string(name)] {
				if tt == html.StartTagToken {
					depth++
				} else if depth > 0 {
					depth--
				}
			}
		case html.TextToken:
			if depth == 0 {
				out.Write(idPattern.ReplaceAll(raw, []byte(`<span class="`+IDClass+`">$0</span>`)))
				continue
			}
		}
		out.Write(raw)
	}
}

// keepText are the elements whose text is not the page's prose.
var keepText = map[string]bool{"script": true, "style": true, "title": true, "svg": true, "textarea": true}
