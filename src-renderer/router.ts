import { createRouter, createWebHashHistory } from 'vue-router'
import ConnectionsView from './views/ConnectionsView.vue'
import ClusterOverviewView from './views/ClusterOverviewView.vue'
import LocalClustersView from './views/LocalClustersView.vue'
import KeysView from './views/KeysView.vue'
import LeasesView from './views/LeasesView.vue'
import UsersView from './views/UsersView.vue'
import DrillsView from './views/DrillsView.vue'
import AdvisorView from './views/AdvisorView.vue'
import SnapshotWizardView from './views/wizards/SnapshotWizardView.vue'
import RestoreWizardView from './views/wizards/RestoreWizardView.vue'
import BackupsView from './views/wizards/BackupsView.vue'
import MembershipWizardView from './views/wizards/MembershipWizardView.vue'
import TlsWizardView from './views/wizards/TlsWizardView.vue'
import { useLocalClustersStore } from './stores/local-clusters'

/** Routes. Hash history, so the same build works from file:// (Electron) and over HTTP (web mode). */
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    {
      // First page: the playground cluster's overview when there is one (npm start creates it), else connections.
      // (A guard, not `redirect`: guards do not run on redirect records.)
      path: '/',
      component: ConnectionsView,
      beforeEnter: async () => {
        const local = useLocalClustersStore()
        if (!local.loaded) await local.load()
        const playground = local.byName.get('playground')
        return playground?.connectionId ? { name: 'overview', params: { id: playground.connectionId } } : { name: 'connections' }
      },
    },
    { path: '/local', name: 'local', component: LocalClustersView },
    { path: '/connections', name: 'connections', component: ConnectionsView },
    { path: '/clusters/:id', name: 'overview', component: ClusterOverviewView, props: true },
    { path: '/clusters/:id/keys', name: 'keys', component: KeysView, props: true },
    { path: '/clusters/:id/leases', name: 'leases', component: LeasesView, props: true },
    { path: '/clusters/:id/users', name: 'users', component: UsersView, props: true },
    { path: '/clusters/:id/advisor', name: 'advisor', component: AdvisorView, props: true },
    { path: '/drills/:name?', name: 'drills', component: DrillsView },
    { path: '/clusters/:id/snapshot', name: 'snapshot', component: SnapshotWizardView, props: true },
    { path: '/restore', name: 'restore', component: RestoreWizardView },
    { path: '/backups', name: 'backups', component: BackupsView },
    { path: '/membership', name: 'membership', component: MembershipWizardView },
    { path: '/tls', name: 'tls', component: TlsWizardView },
  ],
})
