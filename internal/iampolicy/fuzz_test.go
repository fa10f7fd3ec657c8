package iampolicy

import (
	"testing"
)

// FuzzParse feeds hostile documents to Parse and, when one parses, to every
// question asked of it: none may panic.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		doc(allowAll),
		encode(doc(powerUserBody)),
		`{"Statement":{"Effect":"Deny","NotAction":"*","NotResource":"arn:*"}}`,
		doc(`{"Effect":"Allow","Principal":{"AWS":["*","444455556666"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":[1,true,"x"]}}}`),
		`%7B%22Statement%22%3A%5B%5D%7D`,
		`{"Statement":[{"Effect":"Allow","Action":"?*?*?*","Resource":"arn:?:*"}]}`,
		`[]`, `null`, `{"Statement":null}`, `%`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := Parse(in)
		if err != nil {
			return
		}
		for i, s := range d.Statements {
			if s.Effect != Allow && s.Effect != Deny {
				t.Fatalf("statement %d parsed with effect %q", i, s.Effect)
			}
			if (len(s.Action) == 0) == (len(s.NotAction) == 0) {
				t.Fatalf("statement %d parsed without exactly one of Action/NotAction", i)
			}
		}
		e, _ := Resolve(PolicySet{Inline: []InlinePolicy{{Name: "f", Document: in}}, Boundary: "b"},
			Catalog{Managed: map[string]string{"b": in}})
		IsAdmin(e)
		Dangerous(e)
		AllowedResources(e, "sts:AssumeRole")
		d.CrossAccountWithoutExternalID("111122223333")
	})
}

// FuzzCoversIsSound checks the containment test against the matcher: when q
// covers p, every string p matches, q matches too.
func FuzzCoversIsSound(f *testing.F) {
	f.Add("iam:*", "iam:create*", "iam:createuser")
	f.Add("a?c", "a?c", "abc")
	f.Add("*a*", "?a", "ba")
	f.Fuzz(func(t *testing.T, q, p, s string) {
		if len(q)+len(p)+len(s) > 300 {
			return
		}
		if covers(q, p) && glob(p, s) && !glob(q, s) {
			t.Fatalf("covers(%q, %q) but %q matches only the second", q, p, s)
		}
	})
}
