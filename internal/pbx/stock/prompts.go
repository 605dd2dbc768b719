package stock

// Prompt is a stock prompt: NAME.wav in the root (English) and in each
// language folder of PromptLanguages, 8 kHz mono µ-law, made by
// `go run ./internal/tts/cmd/genprompts` from the texts here.
type Prompt struct {
	Name    string
	English string
	Russian string
	// Tone marks a prompt that is a tone rather than speech (the beep
	// before a recording): the same file in every folder.
	Tone bool
}

// Text is the prompt's text in a language folder ("" is the root, English).
func (p Prompt) Text(lang string) string {
	if lang == "russian" {
		return p.Russian
	}
	return p.English
}

// PromptLanguages are the folders the stock prompts are recorded in: ""
// is the root (English).
func PromptLanguages() []string { return []string{"", "russian"} }

// Prompts lists every stock prompt. The built-in programs play them by
// name; the menu of pbx.sppr builds "for"+department and "press"+digit.
func Prompts() []Prompt {
	return []Prompt{
		{Name: "welcome", English: "Welcome.", Russian: "Здравствуйте."},
		{Name: "dialknownextension", English: "If you know the extension, dial it now.",
			Russian: "Если вы знаете добавочный номер, наберите его сейчас."},

		{Name: "foradministration", English: "For administration,", Russian: "Для связи с администрацией"},
		{Name: "forconfcenter", English: "For the conference center,", Russian: "Для входа в конференц-центр"},
		{Name: "forengineering", English: "For engineering,", Russian: "Для связи с инженерным отделом"},
		{Name: "forfrontdesk", English: "For the front desk,", Russian: "Для связи с приёмной"},
		{Name: "forhelpdesk", English: "For the help desk,", Russian: "Для связи со службой поддержки"},
		{Name: "formarketing", English: "For marketing,", Russian: "Для связи с отделом маркетинга"},
		{Name: "foroperations", English: "For operations,", Russian: "Для связи с операционным отделом"},
		{Name: "forsales", English: "For sales,", Russian: "Для связи с отделом продаж"},
		{Name: "fortechsupport", English: "For technical support,", Russian: "Для связи с технической поддержкой"},
		{Name: "foroperator", English: "For the operator,", Russian: "Для связи с оператором"},

		{Name: "press0", English: "press zero.", Russian: "нажмите ноль."},
		{Name: "press1", English: "press one.", Russian: "нажмите один."},
		{Name: "press2", English: "press two.", Russian: "нажмите два."},
		{Name: "press3", English: "press three.", Russian: "нажмите три."},
		{Name: "press4", English: "press four.", Russian: "нажмите четыре."},
		{Name: "press5", English: "press five.", Russian: "нажмите пять."},
		{Name: "press6", English: "press six.", Russian: "нажмите шесть."},
		{Name: "press7", English: "press seven.", Russian: "нажмите семь."},
		{Name: "press8", English: "press eight.", Russian: "нажмите восемь."},
		{Name: "press9", English: "press nine.", Russian: "нажмите девять."},

		{Name: "invalidchoice", English: "That is not a valid choice.", Russian: "Такого варианта нет."},
		{Name: "pleasehold", English: "Please hold while we connect your call.",
			Russian: "Пожалуйста, оставайтесь на линии, мы соединяем вас."},
		{Name: "notavailable", English: "The person you are calling is not available.",
			Russian: "Абонент, которому вы звоните, сейчас недоступен."},
		{Name: "goodbye", English: "Goodbye.", Russian: "До свидания."},

		{Name: "callbackintro",
			English: "The person you called cannot answer right now. Leave your phone number and you will be called back.",
			Russian: "Абонент, которому вы звонили, сейчас не может ответить. Оставьте свой номер телефона, и вам перезвонят."},
		{Name: "callbackenter",
			English: "Enter your phone number, then press the pound key. To start again, press star.",
			Russian: "Наберите свой номер телефона и нажмите решётку. Чтобы начать заново, нажмите звёздочку."},
		{Name: "callbackcleared", English: "Number cleared. Enter your number again.",
			Russian: "Номер стёрт. Наберите номер ещё раз."},
		{Name: "callbackthanks", English: "Thank you. You will be called back soon.",
			Russian: "Спасибо. Вам скоро перезвонят."},
		{Name: "callbackfailed", English: "Sorry, your number could not be passed on. Please call again later.",
			Russian: "К сожалению, не удалось передать ваш номер. Пожалуйста, позвоните позже."},

		{Name: "voicemailgreeting",
			English: "The person you called is not available. Please leave a message after the tone.",
			Russian: "Абонент, которому вы звонили, недоступен. Пожалуйста, оставьте сообщение после сигнала."},
		{Name: "voicemailsaved", English: "Your message has been sent. Goodbye.",
			Russian: "Ваше сообщение отправлено. До свидания."},

		// The prompts the callback program of the CommuniGate PBX article
		// plays ("CallbackBusy"…; names match in any case), so that an
		// integrator can run that program unchanged.
		{Name: "callbackbusy", English: "The person you called cannot take your call right now.",
			Russian: "Специалист сейчас не может ответить на ваш звонок."},
		{Name: "callbacklater", English: "You will be called back as soon as possible.",
			Russian: "Вам перезвонят, как только появится возможность."},
		{Name: "callbacknumber", English: "Dial your phone number, then press the pound key.",
			Russian: "Наберите ваш номер телефона и нажмите решётку."},
		{Name: "callbackclearnumber", English: "To start the number again, press star.",
			Russian: "Чтобы набрать номер заново, нажмите звёздочку."},
		{Name: "callbacktrailer", English: "Thank you. Your number has been passed on. Goodbye.",
			Russian: "Спасибо. Ваш номер передан. До свидания."},
		{Name: "failure", English: "Sorry, something went wrong.", Russian: "К сожалению, произошла ошибка."},
		{Name: "callbacknotavailable", English: "The callback service is not available now. Please call again later.",
			Russian: "Сервис обратного звонка сейчас недоступен. Пожалуйста, позвоните позже."},

		{Name: "conferencewelcome", English: "You are joining the conference.", Russian: "Вы подключаетесь к конференции."},
		{Name: "conferencealone", English: "You are the only participant.", Russian: "Пока вы единственный участник."},

		{Name: "beep", Tone: true},
	}
}
