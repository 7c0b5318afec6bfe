import { onBeforeUnmount, onMounted, shallowRef, type Ref } from 'vue'
import { LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { init, use, type ECharts } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

use([LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

/**
 * Owns one ECharts instance on `element`: creates it on mount, resizes it with its box, disposes it on
 * unmount. `onFinished` runs after each completed render.
 */
export function useEchart(element: Ref<HTMLElement | null>, onFinished: () => void) {
  const chart = shallowRef<ECharts | null>(null)
  let observer: ResizeObserver | null = null

  onMounted(() => {
    if (!element.value) return
    const instance = init(element.value, undefined, { renderer: 'canvas' })
    instance.on('finished', onFinished)
    chart.value = instance
    observer = new ResizeObserver(() => instance.resize())
    observer.observe(element.value)
  })

  onBeforeUnmount(() => {
    observer?.disconnect()
    chart.value?.dispose()
    chart.value = null
  })

  return chart
}
