package class

import (
	"bytes"
	"html/template"
	"time"

	"github.com/cloudnativelab/lab/internal/grade"
)

// scoreboardPage is a page an instructor can project: one row per student, one column
// per check, the points and how long since each student last made progress. It
// reloads itself every 30 seconds, so a `lab class grade -o html --out` run again in a
// loop keeps the room's screen current.
var scoreboardPage = template.Must(template.New("scoreboard").Funcs(template.FuncMap{
	"mark": func(o grade.Outcome) string {
		switch o {
		case grade.Pass:
			return "✓"
		case grade.Fail:
			return "✗"
		}
		return "!"
	},
	"ago": func(d time.Duration) string { return grade.FormatDuration(d) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="30">
<title>{{.Class}}: {{.Checks}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; }
table { border-collapse: collapse; font-size: 1.4rem; }
th, td { border: 1px solid #ccc; padding: .4rem .8rem; text-align: center; }
td.name { text-align: left; }
.pass { background: #d4f7d4; } .fail { background: #fbd5d5; } .error { background: #fff2c2; }
</style>
</head>
<body>
<h1>{{.Class}}: {{.Checks}}</h1>
<p>Graded {{.GradedAt.Format "2006-01-02 15:04:05 UTC"}}. ✓ passed, ✗ failed, ! could not be evaluated.</p>
<table>
<tr><th>student</th>{{range (index .Students 0).Report.Checks}}<th title="{{.Description}}">{{.ID}}</th>{{end}}<th>points</th><th>score</th><th>last progress</th></tr>
{{range .Students}}<tr><td class="name">{{.Student}}</td>{{range .Report.Checks}}<td class="{{.Outcome}}" title="{{if .Error}}{{.Error}}{{else}}{{.Hint}}{{end}}">{{mark .Outcome}}</td>{{end}}<td>{{.Report.Score.Awarded}}/{{.Report.Score.Total}}</td><td>{{printf "%.0f" .Report.Score.Percent}}%</td><td>{{ago .SinceProgress}} ago</td></tr>
{{end}}</table>
</body>
</html>
`))

// HTML is the scoreboard as a page to project.
func (b *Scoreboard) HTML() ([]byte, error) {
	var buf bytes.Buffer
	if len(b.Students) == 0 {
		return nil, nil
	}
	err := scoreboardPage.Execute(&buf, b)
	return buf.Bytes(), err
}
