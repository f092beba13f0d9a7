// The Train page's name for the one gray-canvas component (../Thumbnail.tsx) with its styling.
import type { ComponentProps } from 'react';
import { Thumbnail } from '../Thumbnail';

export function GrayThumb({ testId, ...props }: Omit<ComponentProps<typeof Thumbnail>, 'className' | 'testId'> & { testId?: string }) {
  return <Thumbnail {...props} className="tr-thumb" testId={testId ?? ''} />;
}
