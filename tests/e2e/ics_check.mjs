// Parse an .ics from stdin with ical.js (its VTIMEZONEs registered, as a
// calendar app does) and print what the integration tests check, as JSON.
import fs from 'node:fs';
import ICAL from 'ical.js';

const text = fs.readFileSync(0, 'utf8');
const cal = new ICAL.Component(ICAL.parse(text));
const zones = cal.getAllSubcomponents('vtimezone');
for (const z of zones) ICAL.TimezoneService.register(z);
const vevent = cal.getFirstSubcomponent('vevent');
const e = new ICAL.Event(vevent);
const dtstart = vevent.getFirstProperty('dtstart');
console.log(JSON.stringify({
  sequence: e.sequence,
  tzid: dtstart.getParameter('tzid') || null,
  vtimezones: zones.map((z) => z.getFirstPropertyValue('tzid')),
  start_ms: e.startDate.toJSDate().getTime(),
  end_ms: e.endDate.toJSDate().getTime(),
  summary: e.summary,
  location: e.location,
  description: e.description,
  url: vevent.getFirstPropertyValue('url'),
  status: vevent.getFirstPropertyValue('status'),
  alarms: vevent.getAllSubcomponents('valarm').map((a) =>
    a.getFirstPropertyValue('trigger').toString()),
  lines_ok: text.split('\r\n').every((l) => Buffer.byteLength(l) <= 75),
}));
