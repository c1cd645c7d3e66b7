import type { ReactNode } from 'react';
import { describedBy, type ControlProps } from '../components/Field.js';
import { DATE_STYLE_WORDS, DATE_STYLES, type FieldSpec } from './fields.js';

/**
 * One input of the branding form, labelled, with its hint and the API's
 * problem with it (announced, and tied to the input by aria-describedby).
 * A branding field also says whether it is set here or inherited, and what
 * it inherits; an Admin can give a set field back to what it inherits.
 */

const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;

/** What an inherited value reads as: a date style in words, nothing as "not set". */
function shown(spec: FieldSpec, value: string | undefined): string {
  if (value === undefined || value === '') return 'not set';
  if (spec.control === 'dateStyle' && Object.hasOwn(DATE_STYLE_WORDS, value)) return DATE_STYLE_WORDS[value as keyof typeof DATE_STYLE_WORDS];
  return value;
}

function inheritanceWords(own: boolean, word: string, spec: FieldSpec, inherited: string | undefined): string {
  if (!own) return `${word}: ${shown(spec, inherited)}.`;
  if (inherited === undefined || inherited === '') return 'Nothing is inherited for it.';
  return `Instead of ${word === 'Inherited' ? 'the inherited' : word} ${shown(spec, inherited)}.`;
}

export function BrandingField({
  id,
  spec,
  value,
  inherited,
  inheritedKnown,
  inheritedWord,
  problem,
  editable,
  onChange,
}: {
  readonly id: string;
  readonly spec: FieldSpec;
  /** As typed; empty: inherited. */
  readonly value: string;
  /** What it falls back to; undefined until the preview has answered, or when nothing sets it. */
  readonly inherited: string | undefined;
  /** The preview has answered: `inherited` is what the API says, not just unknown yet. */
  readonly inheritedKnown: boolean;
  /** "Inherited", or for the MSP's own default "Nightshift's default". */
  readonly inheritedWord: string;
  readonly problem: string | undefined;
  readonly editable: boolean;
  readonly onChange: (value: string) => void;
}) {
  const own = value.trim() !== '';
  const props: ControlProps = { id, name: spec.name, 'aria-invalid': problem === undefined ? undefined : true, 'aria-describedby': describedBy(id, true, problem !== undefined) };
  const placeholder = inherited ?? '';
  let control: ReactNode;
  switch (spec.control) {
    case 'colour': {
      const effective = own ? value.trim() : (inherited ?? '');
      control = (
        <div className="colour-control">
          {/* a picker needs a valid colour to show; while the text is half typed it shows the inherited one */}
          <input type="color" aria-label={`${spec.label}: pick a colour`} value={HEX_COLOUR.test(effective) ? effective.toLowerCase() : HEX_COLOUR.test(inherited ?? '') ? (inherited ?? '') : '#000000'} onChange={(event) => { onChange(event.currentTarget.value); }} />
          <input {...props} type="text" value={value} placeholder={placeholder} spellCheck={false} size={9} maxLength={7} onChange={(event) => { onChange(event.currentTarget.value); }} />
        </div>
      );
      break;
    }
    case 'dateStyle':
      control = (
        <select {...props} value={value} onChange={(event) => { onChange(event.currentTarget.value); }}>
          <option value="">{inheritedKnown ? `${inheritedWord}: ${shown(spec, inherited)}` : inheritedWord}</option>
          {DATE_STYLES.map((style) => (
            <option key={style} value={style}>
              {DATE_STYLE_WORDS[style]}
            </option>
          ))}
        </select>
      );
      break;
    default:
      control = <input {...props} type={spec.control === 'email' ? 'email' : spec.control === 'url' ? 'url' : 'text'} value={value} placeholder={placeholder} spellCheck={spec.control === 'text'} onChange={(event) => { onChange(event.currentTarget.value); }} />;
  }
  return (
    <div className={`field branding-field${problem === undefined ? '' : ' field-invalid'}`}>
      <div className="field-head">
        <label htmlFor={id}>{spec.label}</label>
        <span className={`badge ${own ? 'tone-active' : 'tone-neutral'}`}>{own ? 'Set here' : 'Inherited'}</span>
      </div>
      {control}
      <small id={`${id}-hint`} className="hint">
        {spec.hint === undefined ? '' : `${spec.hint}. `}
        {inheritedKnown ? inheritanceWords(own, inheritedWord, spec, inherited) : ''}
      </small>
      {own && editable ? (
        <button type="button" className="secondary inherit-button" aria-label={`${spec.label}: use the inherited value`} onClick={() => { onChange(''); }}>
          Use inherited
        </button>
      ) : null}
      {problem === undefined ? null : (
        <p id={`${id}-problem`} className="field-problem" role="alert">
          {spec.label}: {problem}
        </p>
      )}
    </div>
  );
}
