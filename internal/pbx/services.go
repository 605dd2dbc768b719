package pbx

import (
	"net/http"

	"github.com/ringo-pbx/ringo/cgpl"
	"github.com/ringo-pbx/ringo/internal/pbx/lib"
)

// Mailer sends e-mail for programs; *mail.Sender is one.
type Mailer = lib.Mailer

// Services are what the host lends programs beyond calls. A nil Mailer or
// HTTP client makes the functions report an error string, as CG/PL
// functions do, rather than fail the task.
type Services struct {
	Mail Mailer
	HTTP *http.Client
	// MaxHTTPBody bounds a response body read into a program
	// (lib.DefaultMaxHTTPBody when 0).
	MaxHTTPBody int64
}

// RegisterServices registers SendEMail, SubmitEMail and HTTPCall over svc
// (see package lib).
func RegisterServices(reg *cgpl.Registry, svc Services) {
	for _, f := range lib.MailFuncs(svc.Mail) {
		reg.Register(f)
	}
	for _, f := range (lib.HTTPConfig{Client: svc.HTTP, MaxBody: svc.MaxHTTPBody}).Funcs() {
		reg.Register(f)
	}
}
