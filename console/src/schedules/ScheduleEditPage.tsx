import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { usePageTitle } from '../app/page-title.js';
import { useMay } from '../auth/me.js';
import { Problem } from '../components/Problem.js';
import { NEW_SCHEDULE } from './form.js';
import { scheduleQuery } from './queries.js';
import { ScheduleForm } from './ScheduleForm.js';
import { inputOf } from './words.js';

/** A new schedule, from the API's defaults. */
export function NewSchedulePage() {
  usePageTitle('New schedule');
  const mayOperate = useMay('operate');
  return (
    <>
      <p className="breadcrumb">
        <Link to="/schedules">Schedules</Link> / new
      </p>
      <h1>New schedule</h1>
      {mayOperate ? <ScheduleForm base={NEW_SCHEDULE} /> : <p>Your role may read schedules, not create them.</p>}
    </>
  );
}

const editRoute = getRouteApi('/schedules/$scheduleId/edit');

/** A stored schedule, edited at the version it was read at (a change meanwhile is refused, not overwritten). */
export function EditSchedulePage() {
  const { scheduleId } = editRoute.useParams();
  const mayOperate = useMay('operate');
  // read once: a refetch under the operator's typing would not change the form, only the version it saves against
  const schedule = useQuery({ ...scheduleQuery(scheduleId), staleTime: Infinity, refetchOnWindowFocus: false });
  usePageTitle(schedule.data === undefined ? `Edit schedule ${scheduleId}` : `Edit ${schedule.data.name}`);
  return (
    <>
      <p className="breadcrumb">
        <Link to="/schedules">Schedules</Link> / <Link to="/schedules/$scheduleId" params={{ scheduleId }}>{schedule.data?.name ?? scheduleId}</Link> / edit
      </p>
      <h1>Edit {schedule.data?.name ?? scheduleId}</h1>
      {schedule.error ? <Problem error={schedule.error} title="The schedule could not be read" /> : null}
      {!mayOperate ? <p>Your role may read schedules, not change them.</p> : null}
      {mayOperate && schedule.data !== undefined ? <ScheduleForm base={inputOf(schedule.data)} scheduleId={scheduleId} expectedVersion={schedule.data.version} /> : null}
    </>
  );
}
