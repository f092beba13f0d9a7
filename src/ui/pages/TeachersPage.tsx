// For teachers: a 45-minute lesson plan built on the app's own features, and where to obtain public
// chest X-ray collections. Links only: the app never fetches anything from them; a teacher downloads
// a collection in another tab and drops the images on the Train or Classify page.
import { Explain } from '../components/Explain';

interface Step {
  minutes: string;
  title: string;
  where: { href: string; text: string };
  body: string[];
}

const PLAN: Step[] = [
  {
    minutes: '0–5',
    title: 'Set up the room',
    where: { href: '#/classify', text: 'Classify' },
    body: [
      'Switch on “Projector mode” in the header: text, charts, axes, legends, tables and the confusion matrix all grow. The switch is remembered on this computer.',
      'Say it first: this is a research and teaching tool, not a medical device. Nothing leaves the browser: no image is uploaded anywhere.',
    ],
  },
  {
    minutes: '5–12',
    title: 'What the model says, and where it looked',
    where: { href: '#/classify', text: 'Classify' },
    body: [
      'Drop a few chest X-rays on the Classify page. Read the class probabilities together and press the “?” next to them: a probability is a score, not a certainty.',
      'Open the Grad-CAM heatmap: it shows where the network looked for the chosen class, not why. Heat on labels, borders or tubes is a warning sign.',
      'Drop a photo or a drawing: the app answers “Not a chest X-ray?” and gives no class. Ask the class why a model should be allowed to say “I don’t know”.',
    ],
  },
  {
    minutes: '12–25',
    title: 'Train a model and watch it learn',
    where: { href: '#/train', text: 'Train' },
    body: [
      'On the Train page, drop a folder with one sub-folder per class (for example 40 normal and 40 pneumonia films). If an image is in twice (a folder and a zip of it, say), the Copies and leakage panel shows the sets and keeps each on one side of the split: copies on both sides make validation look better than it is. It also counts the images the shipped network was trained on, which flatter validation the same way.',
      'Before training, look at “What augmentation does”: each training image is shown with copies flipped, turned, cropped and brightened the way training draws them. “New samples” draws again. Ask why a model that sees these copies has a harder time memorising.',
      'Set the “classroom pace” so each epoch takes a visible moment, then press Train. Follow the loss and accuracy curves: training vs validation, one point per epoch. The “?” buttons explain loss, epoch, early stopping, and why validation can beat training when dropout and augmentation make training harder.',
    ],
  },
  {
    minutes: '25–32',
    title: 'How sure can we be?',
    where: { href: '#/train', text: 'Train' },
    body: [
      'Read the confusion matrix: which class is mistaken for which. Then the accuracy with its 95 % interval: with 16 validation images, “100 %” really means “somewhere between 81 % and 100 %”, and the page says so with a small-sample warning.',
      'Open a misclassified image and its Grad-CAM. Ask: would a radiologist have got it right? Is the label itself certain?',
    ],
  },
  {
    minutes: '32–40',
    title: 'Two experiments: overfitting and the shortcut lesson',
    where: { href: '#/train', text: 'Train' },
    body: [
      'Run the overfitting preset (few images, many epochs, no augmentation): training loss keeps falling while validation loss turns upwards; the chart marks where the curves part.',
      'Run the shortcut lesson on the Train page (“Train on the border only and compare”): the same images, split and settings, trained again with the lungs blacked out (only the border left). Both runs’ curves and accuracies (with their intervals) are on one screen. If the border-only run still scores well, the model is learning the hospital, not the disease.',
    ],
  },
  {
    minutes: '40–45',
    title: 'Wrap up and keep the work',
    where: { href: '#/model', text: 'Model card, then Train' },
    body: [
      'Open the Model card: what the model was trained on, its metrics with intervals, its caveats. A model is only as good as the data and the test behind it.',
      'Keep the whole project for the next lesson: “Download project (.cxrlab)” or “Save in this browser” keeps the images, labels, split, settings, curves and the trained model, and opening it brings all of it back without preparing the images again. The page warns before a reload or a closed tab would lose unsaved work. The trained model alone can also be downloaded (.zip with its own model card) or saved for the Classify page.',
    ],
  },
];

const SOURCES: { name: string; href: string; note: string }[] = [
  {
    name: 'COVID-19 image data collection (Cohen et al., ieee8023)',
    href: 'https://github.com/ieee8023/covid-chestxray-dataset',
    note: 'covid and other pneumonias, with metadata; per-image licences (several non-commercial).',
  },
  {
    name: 'COVID-CXNet (Haghanifar et al.)',
    href: 'https://github.com/armiro/COVID-CXNet',
    note: 'covid films collected from public sources; CC BY 4.0 per its README.',
  },
  {
    name: 'Figure 1 COVID-19 chest X-ray dataset (COVID-Net team)',
    href: 'https://github.com/agchung/Figure1-COVID-chestxray-dataset',
    note: 'small; research use only.',
  },
  {
    name: 'Actualmed COVID-19 chest X-ray dataset (COVID-Net team)',
    href: 'https://github.com/agchung/Actualmed-COVID-chestxray-dataset',
    note: 'small; research use only.',
  },
  {
    name: 'Chest X-ray images, pediatric (Kermany et al. 2018, Mendeley Data)',
    href: 'https://data.mendeley.com/datasets/rscbjbr9sj/2',
    note: 'normal and pneumonia in children; CC BY 4.0. Children’s films look different from adults’: a classic shortcut.',
  },
  {
    name: 'NIH ChestX-ray14 (Wang et al. 2017)',
    href: 'https://nihcc.app.box.com/v/ChestXray-NIHCC',
    note: '112,000 adult films, 14 findings mined from reports by NLP (noisy labels).',
  },
  {
    name: 'RSNA Pneumonia Detection Challenge (Kaggle)',
    href: 'https://www.kaggle.com/c/rsna-pneumonia-detection-challenge',
    note: 'adult films from NIH ChestX-ray14 with pneumonia boxes; own terms of use.',
  },
  {
    name: 'COVID-19 Radiography Database (Chowdhury et al., Rahman et al., Kaggle)',
    href: 'https://www.kaggle.com/datasets/tawsifurrahman/covid19-radiography-database',
    note: 'covid, normal, viral pneumonia and lung opacity, gathered from several of the sources above.',
  },
];

export default function TeachersPage() {
  return (
    <div className="teachers" data-testid="teachers-page">
      <section className="panel" aria-labelledby="te-intro">
        <h2 id="te-intro" className="panel__title">
          For teachers: a 45-minute lesson
        </h2>
        <p>
          A lesson for a class that has never trained a model: what a classifier answers, how it learns, how sure we can be of its scores, and how it can be
          right for the wrong reason. Every step uses this app; every figure on the way has a “?” button <Explain term="accuracy" /> that explains it in plain
          words.
        </p>
        <p className="muted">
          Prepare a folder of chest X-rays beforehand (one sub-folder per class, 30 or more images per class if you can; see “Where to get images” below) and
          try the whole lesson once on the classroom computer. Research and education only: not for clinical use.
        </p>
      </section>

      <section className="panel" aria-labelledby="te-plan">
        <h2 id="te-plan" className="panel__title">
          Lesson plan
        </h2>
        <ol className="te-plan" data-testid="lesson-plan">
          {PLAN.map((s) => (
            <li key={s.minutes} className="te-step" data-testid="lesson-step">
              <h3 className="te-step__title">
                <span className="te-step__time">{s.minutes} min</span> {s.title}{' '}
                <span className="muted">
                  · <a href={s.where.href}>{s.where.text} page</a>
                </span>
              </h3>
              {s.body.map((p) => (
                <p key={p.slice(0, 24)}>{p}</p>
              ))}
            </li>
          ))}
        </ol>
      </section>

      <section className="panel" aria-labelledby="te-data">
        <h2 id="te-data" className="panel__title">
          Where to get images
        </h2>
        <p>
          Public chest X-ray collections, to download yourself. The app itself never fetches anything: it only reads the files you give it, in this browser.
          Check each collection’s licence before you use it; many are for research and non-commercial use only, and their labels were not reviewed clinically.
        </p>
        <ul className="te-sources" data-testid="data-sources">
          {SOURCES.map((s) => (
            <li key={s.href}>
              <a href={s.href} rel="noreferrer">
                {s.name}
              </a>
              : {s.note}
              <br />
              <span className="te-url muted">{s.href}</span>
            </li>
          ))}
        </ul>
        <p className="muted">
          Mixing collections is itself a lesson: if all covid films come from one source and all normal films from another, a model can learn the source instead
          of the disease. The shortcut check on the Evaluate page shows it.
        </p>
      </section>
    </div>
  );
}
